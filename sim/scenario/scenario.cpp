#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <toml++/toml.h>
#include <type_traits>

#include "check/input_file.hpp"
#include "sim/run/workload.hpp"
#include "sim/scenario/duration.hpp"

namespace dkv::sim {

namespace {

enum class kind : std::uint8_t { integer, duration, real, flag };

// One setting a file may name: its key, its type and bounds, and where it
// goes in the run's options. Values travel as doubles (exact for every
// integer here: all stay below 2^53).
struct field {
  std::string_view key;
  kind type;
  double min, max;
  double (*get)(const run_options&);
  void (*set)(run_options&, double);
};

#define DKV_FIELD(KEY, KIND, MIN, MAX, MEMBER)                                                               \
  field {                                                                                                    \
    KEY, kind::KIND, MIN, MAX, [](const run_options& o) { return static_cast<double>(o.MEMBER); },           \
        [](run_options& o, double v) { o.MEMBER = static_cast<std::remove_cvref_t<decltype(o.MEMBER)>>(v); } \
  }

constexpr double ms = 1e6, s = 1e9, minute = 60e9;

// The order is the order of drawing and of writing a file.
const field fields[] = {
    DKV_FIELD("duration", duration, 1 * ms, 60 * minute, time_ns),
    DKV_FIELD("cluster.nodes", integer, 1, 9, nodes),
    DKV_FIELD("cluster.founders", integer, 0, 9, founders),
    DKV_FIELD("cluster.tick", duration, 1 * ms, 1 * s, node.tick_ns),
    DKV_FIELD("cluster.election_ticks", integer, 2, 1000, node.raft.election_ticks),
    DKV_FIELD("cluster.heartbeat_ticks", integer, 1, 999, node.raft.heartbeat_ticks),
    DKV_FIELD("cluster.pre_vote", flag, 0, 1, node.raft.pre_vote),
    DKV_FIELD("cluster.check_quorum", flag, 0, 1, node.raft.check_quorum),
    DKV_FIELD("cluster.snapshot_every", integer, 1, 1e9, node.snapshot_every),
    DKV_FIELD("cluster.max_sessions", integer, 1, 1 << 20, node.machine.sessions.max_sessions),
    DKV_FIELD("cluster.max_pending", integer, 1, 1 << 20, node.max_pending),
    DKV_FIELD("workload.clients", integer, 1, 256, workload.clients),
    DKV_FIELD("workload.keys", integer, 1, 1e6, workload.keys),
    DKV_FIELD("workload.key_skew", real, 0, 0.99, workload.key_skew),
    DKV_FIELD("workload.locks", integer, 0, 1000, workload.locks),
    DKV_FIELD("workload.think", duration, 0, 10 * s, workload.max_think_ns),
    DKV_FIELD("workload.max_ttl", integer, 0, 1000, workload.max_schedule),
    DKV_FIELD("workload.min_value_bytes", integer, 0, 1 << 20, workload.min_value_bytes),
    DKV_FIELD("workload.max_value_bytes", integer, 0, 1 << 20, workload.max_value_bytes),
    DKV_FIELD("workload.scripted", flag, 0, 1, workload.scripted),
    DKV_FIELD("workload.call_timeout", duration, 1 * ms, 10 * minute, workload.client.call_timeout_ns),
    DKV_FIELD("workload.mix.get", integer, 0, 1000, workload.mix.get),
    DKV_FIELD("workload.mix.has", integer, 0, 1000, workload.mix.has),
    DKV_FIELD("workload.mix.set", integer, 0, 1000, workload.mix.set),
    DKV_FIELD("workload.mix.setE", integer, 0, 1000, workload.mix.set_e),
    DKV_FIELD("workload.mix.setEIfUnset", integer, 0, 1000, workload.mix.set_e_if_unset),
    DKV_FIELD("workload.mix.expire", integer, 0, 1000, workload.mix.expire),
    DKV_FIELD("workload.mix.delete", integer, 0, 1000, workload.mix.remove),
    DKV_FIELD("workload.mix.deleteIfValue", integer, 0, 1000, workload.mix.remove_if_value),
    DKV_FIELD("workload.mix.lock", integer, 0, 100, workload.mix.lock),
    DKV_FIELD("network.min_latency", duration, 0, 10 * s, network.min_latency_ns),
    DKV_FIELD("network.max_latency", duration, 0, 10 * s, network.max_latency_ns),
    DKV_FIELD("network.drop", real, 0, 0.5, network.drop),
    DKV_FIELD("network.duplicate", real, 0, 0.5, network.duplicate),
    DKV_FIELD("disk.min_latency", duration, 0, 1 * s, disk.min_latency_ns),
    DKV_FIELD("disk.max_latency", duration, 0, 1 * s, disk.max_latency_ns),
    DKV_FIELD("disk.sync_failure", real, 0, 0.01, disk.sync_failure),
    DKV_FIELD("disk.read_corruption", real, 0, 0.01, disk.read_corruption),
    DKV_FIELD("faults.random", flag, 0, 1, random_faults),
    DKV_FIELD("faults.mean_gap", duration, 1 * ms, 60 * minute, random_plan.mean_gap_ns),
    DKV_FIELD("faults.min_duration", duration, 1 * ms, 60 * minute, random_plan.min_duration_ns),
    DKV_FIELD("faults.max_duration", duration, 1 * ms, 60 * minute, random_plan.max_duration_ns),
    DKV_FIELD("faults.max_down", integer, 0, 8, random_plan.max_down),
    DKV_FIELD("faults.max_damaged", integer, 0, 8, random_plan.max_damaged),
    DKV_FIELD("faults.max_skew", duration, 0, 1 * minute, random_plan.max_skew_ns),
    DKV_FIELD("faults.max_drift_ppm", integer, 0, 100'000, random_plan.max_drift_ppm),
    DKV_FIELD("faults.crash_after_vote", real, 0, 1, random_plan.crash_after_vote),
    DKV_FIELD("faults.crash_after_vote_within", duration, 0, 1 * s, random_plan.crash_after_vote_within_ns),
    DKV_FIELD("faults.crash_after_vote_downtime", duration, 1 * ms, 10 * s, random_plan.crash_after_vote_downtime_ns),
    DKV_FIELD("faults.isolate_after_winning", real, 0, 1, random_plan.isolate_after_winning),
    DKV_FIELD("faults.isolate_after_winning_downtime", duration, 1 * ms, 10 * s,
              random_plan.isolate_after_winning_downtime_ns),
    DKV_FIELD("faults.crash_after_winning", real, 0, 1, random_plan.crash_after_winning),
    DKV_FIELD("faults.crash_after_winning_within", duration, 0, 1 * s, random_plan.crash_after_winning_within_ns),
    DKV_FIELD("faults.crash_after_winning_downtime", duration, 1 * ms, 10 * s,
              random_plan.crash_after_winning_downtime_ns),
    DKV_FIELD("faults.weights.partition", integer, 0, 1000, random_plan.weights.partition),
    DKV_FIELD("faults.weights.crash", integer, 0, 1000, random_plan.weights.crash),
    DKV_FIELD("faults.weights.pause", integer, 0, 1000, random_plan.weights.pause),
    DKV_FIELD("faults.weights.clock", integer, 0, 1000, random_plan.weights.clock),
    DKV_FIELD("faults.weights.damage", integer, 0, 1000, random_plan.weights.damage),
    DKV_FIELD("faults.weights.lose", integer, 0, 1000, random_plan.weights.lose),
    DKV_FIELD("faults.weights.cut", integer, 0, 1000, random_plan.weights.cut),
    DKV_FIELD("faults.weights.membership", integer, 0, 1000, random_plan.weights.membership),
    DKV_FIELD("faults.shapes.split", integer, 0, 1000, random_plan.shapes.split),
    DKV_FIELD("faults.shapes.one_way", integer, 0, 1000, random_plan.shapes.one_way),
    DKV_FIELD("faults.shapes.isolate", integer, 0, 1000, random_plan.shapes.isolate),
    DKV_FIELD("faults.shapes.bridge", integer, 0, 1000, random_plan.shapes.bridge),
    DKV_FIELD("liveness.settle", duration, 0, 10 * minute, settle_ns),
    DKV_FIELD("checks.liveness", flag, 0, 1, checks.liveness),
    DKV_FIELD("checks.agreement", flag, 0, 1, checks.agreement),
    DKV_FIELD("checks.convergence", flag, 0, 1, checks.convergence),
    DKV_FIELD("checks.linearizability", flag, 0, 1, checks.linearizability),
    DKV_FIELD("checks.elections", flag, 0, 1, checks.elections),
    DKV_FIELD("checks.storage", flag, 0, 1, checks.storage),
    DKV_FIELD("checks.stable_leader", flag, 0, 1, checks.stable_leader),
    DKV_FIELD("checks.membership", flag, 0, 1, checks.membership),
};

#undef DKV_FIELD

constexpr std::uint64_t swarm_stream = 0x737761726d;  // "swarm"

std::optional<std::size_t> field_index(std::string_view key) {
  for (std::size_t i = 0; i < std::size(fields); ++i)
    if (fields[i].key == key) return i;
  return std::nullopt;
}

// FILE:LINE:COL: KEY: message
class reader {
 public:
  explicit reader(const std::string& path) : path_(path) {}

  [[noreturn]] void fail(const toml::source_region& where, std::string_view key, std::string_view message) const {
    std::string text = path_;
    if (where.begin.line > 0) text += fmt::format(":{}:{}", where.begin.line, where.begin.column);
    text += ": ";
    if (!key.empty()) text += fmt::format("{}: ", key);
    text += message;
    throw scenario_error(text);
  }

  void read(const toml::table& root, scenario& out) {
    walk(root, "", out);
    std::sort(out.settings.begin(), out.settings.end(),
              [](const setting& a, const setting& b) { return a.field < b.field; });
    check_together(out);
  }

 private:
  void walk(const toml::table& table, const std::string& prefix, scenario& out) {
    for (auto&& [name, node] : table) {
      const std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
      if (key == "seed") {
        const auto v = node.value<std::int64_t>();
        if (!node.is_integer() || !v || *v < 0) fail(node.source(), key, "must be a whole number, 0 or more");
        out.seed = static_cast<std::uint64_t>(*v);
      } else if (key == "bugs") {
        read_bugs(node, key, out);
      } else if (key == "faults.at") {
        for_each_table(node, key, [&](const toml::table& t) { out.schedule.push_back(read_fault(t, key)); });
      } else if (key == "workload.call") {
        for_each_table(node, key, [&](const toml::table& t) { out.script.push_back(read_call(t, key)); });
      } else if (const auto index = field_index(key)) {
        out.settings.push_back(read_setting(*index, node));
      } else if (node.is_table() && is_section(key)) {
        walk(*node.as_table(), key, out);
      } else {
        fail(name.source(), key, "unknown key (scenarios/README.md lists the keys)");
      }
    }
  }

  static bool is_section(std::string_view key) {
    for (const field& f : fields)
      if (f.key.size() > key.size() && f.key.substr(0, key.size()) == key && f.key[key.size()] == '.') return true;
    return key == "faults" || key == "workload";
  }

  template <class F>
  void for_each_table(const toml::node& node, std::string_view key, F&& each) {
    const toml::array* list = node.as_array();
    if (!list) fail(node.source(), key, fmt::format("must be an array of tables ([[{}]])", key));
    for (const toml::node& item : *list) {
      if (!item.is_table()) fail(item.source(), key, "must hold tables");
      each(*item.as_table());
    }
  }

  void read_bugs(const toml::node& node, std::string_view key, scenario& out) {
    const toml::array* list = node.as_array();
    if (!list) fail(node.source(), key, "must be an array of bug names");
    for (const toml::node& item : *list) {
      const auto name = item.value<std::string>();
      const auto found = name ? dkv::bugs::find(*name) : std::nullopt;
      if (!found) {
        std::string known;
        for (const auto& b : dkv::bugs::catalogue()) known += (known.empty() ? "" : ", ") + std::string(b.name);
        fail(item.source(), key, fmt::format("unknown bug {} (known: {})", name ? "'" + *name + "'" : "name", known));
      }
      out.bugs |= dkv::bugs::bit(*found);
    }
  }

  double scalar(const field& f, const toml::node& node) const {
    const auto bad = [&](std::string_view what) -> double { fail(node.source(), f.key, what); };
    double v = 0;
    switch (f.type) {
      case kind::integer:
        if (!node.is_integer()) return bad("must be a whole number");
        v = static_cast<double>(*node.value<std::int64_t>());
        break;
      case kind::real:
        if (!node.is_number()) return bad("must be a number");
        v = *node.value<double>();
        break;
      case kind::flag:
        if (!node.is_boolean()) return bad("must be true or false");
        v = *node.value<bool>() ? 1 : 0;
        break;
      case kind::duration: {
        const auto text = node.value<std::string>();
        const auto ns = node.is_string() && text ? parse_duration(*text) : std::nullopt;
        if (!ns) return bad("must be a duration such as \"500ms\", \"2s\" or \"1m\" (units ns, us, ms, s, m)");
        v = static_cast<double>(*ns);
        break;
      }
    }
    if (!(v >= f.min && v <= f.max))
      return bad(fmt::format("{} is out of range [{}, {}]", show(f, v), show(f, f.min), show(f, f.max)));
    return v;
  }

  setting read_setting(std::size_t index, const toml::node& node) const {
    const field& f = fields[index];
    if (const toml::array* pair = node.as_array()) {
      if (pair->size() != 2) fail(node.source(), f.key, "a range is a pair [low, high]");
      const double low = scalar(f, *pair->get(0)), high = scalar(f, *pair->get(1));
      if (low > high) fail(node.source(), f.key, "a range's low end must not exceed its high end");
      return {index, low, high};
    }
    const double v = scalar(f, node);
    return {index, v, v};
  }

  planned_fault read_fault(const toml::table& t, std::string_view list) {
    planned_fault p;
    bool has_time = false, has_kind = false, has_node = false, has_other = false, has_groups = false,
         has_downtime = false;
    for (auto&& [name, node] : t) {
      const std::string key = fmt::format("{}.{}", list, name.str());
      const std::string_view n = name.str();
      if (n == "time") {
        const auto text = node.value<std::string>();
        const auto ns = text ? parse_duration(*text) : std::nullopt;
        if (!ns) fail(node.source(), key, "must be a duration such as \"5s\"");
        p.time_ns = *ns;
        has_time = true;
      } else if (n == "kind") {
        const auto k = node.value<std::string>();
        const auto parsed = k ? kind_named(*k) : std::nullopt;
        if (!parsed)
          fail(node.source(), key,
               "must be one of split, one_way, isolate, bridge, heal, crash, restart, reboot, pause, resume, clock, "
               "damage, lose, cut, alone, add_server, add_learner, remove_server");
        p.what.kind = *parsed;
        has_kind = true;
      } else if (n == "node") {
        if (const auto role = node.value<std::string>();
            node.is_string() && role && (*role == "leader" || *role == "follower")) {
          p.role = *role == "leader" ? node_role::leader : node_role::follower;
        } else {
          p.what.node = node_number(node, key);
        }
        has_node = true;
      } else if (n == "other") {
        p.what.other = node_number(node, key);
        has_other = true;
      } else if (n == "side") {
        const auto v = node.value<std::int64_t>();
        if (!node.is_integer() || !v || *v < 1 || *v > 8)
          fail(node.source(), key, "must be a whole number from 1 to 8");
        p.side = static_cast<std::size_t>(*v);
      } else if (n == "groups") {
        p.what.groups = read_groups(node, key);
        has_groups = true;
      } else if (n == "skew") {
        const auto text = node.value<std::string>();
        std::string_view digits = text ? std::string_view(*text) : std::string_view();
        const bool negative = !digits.empty() && digits.front() == '-';
        if (negative) digits.remove_prefix(1);
        const auto ns = text ? parse_duration(digits) : std::nullopt;
        if (!ns || *ns > 60'000'000'000)
          fail(node.source(), key, "must be a duration up to a minute, such as \"-50ms\"");
        p.what.clock.skew_ns = negative ? -static_cast<std::int64_t>(*ns) : static_cast<std::int64_t>(*ns);
      } else if (n == "downtime") {
        const auto text = node.value<std::string>();
        const auto ns = text ? parse_duration(*text) : std::nullopt;
        if (!ns || *ns == 0 || *ns > 600'000'000'000)
          fail(node.source(), key, "must be a duration from 1ns to 10m, such as \"15ms\"");
        p.what.downtime_ns = *ns;
        has_downtime = true;
      } else if (n == "drift_ppm") {
        const auto v = node.value<std::int64_t>();
        if (!node.is_integer() || !v || *v < -100'000 || *v > 100'000)
          fail(node.source(), key, "must be a whole number from -100000 to 100000");
        p.what.clock.drift_ppm = static_cast<std::int32_t>(*v);
      } else {
        fail(name.source(), key, "unknown key (time, kind, node, other, side, groups, skew, drift_ppm, downtime)");
      }
    }
    const auto need = [&](bool present, std::string_view what) {
      if (!present) fail(t.source(), list, fmt::format("this fault needs {}", what));
    };
    need(has_time, "a time");
    need(has_kind, "a kind");
    switch (p.what.kind) {
      case fault_kind::heal: break;
      case fault_kind::split: need(has_groups || (has_node && p.side > 0), "groups, or a node and a side"); break;
      case fault_kind::one_way: need(has_node && has_other, "a node and another"); break;
      case fault_kind::bridge: need(has_node && has_groups, "a node and the groups it bridges"); break;
      case fault_kind::reboot: need(has_node && has_downtime, "a node and a downtime"); break;
      case fault_kind::add_server:
      case fault_kind::add_learner:
        need(has_node && p.role == node_role::given, "a node by number (a node that has a role is a member already)");
        break;
      default: need(has_node, "a node"); break;
    }
    return p;
  }

  node_id node_number(const toml::node& node, std::string_view key) const {
    const auto v = node.value<std::int64_t>();
    if (!node.is_integer() || !v || *v < 1 || *v > 9)
      fail(node.source(), key, "must be a node from 1 to 9, \"leader\" or \"follower\"");
    return static_cast<node_id>(*v);
  }

  std::vector<std::vector<node_id>> read_groups(const toml::node& node, std::string_view key) const {
    const toml::array* outer = node.as_array();
    if (!outer || outer->size() < 2)
      fail(node.source(), key, "must be two or more groups of nodes, such as [[1, 2], [3]]");
    std::vector<std::vector<node_id>> groups;
    for (const toml::node& g : *outer) {
      const toml::array* inner = g.as_array();
      if (!inner || inner->empty()) fail(g.source(), key, "each group is a non-empty array of nodes");
      groups.emplace_back();
      for (const toml::node& n : *inner) groups.back().push_back(node_number(n, key));
    }
    return groups;
  }

  scripted_call read_call(const toml::table& t, std::string_view list) {
    scripted_call c;
    bool has_op = false;
    for (auto&& [name, node] : t) {
      const std::string key = fmt::format("{}.{}", list, name.str());
      const std::string_view n = name.str();
      const auto text = node.value<std::string>();
      const auto number = node.value<std::int64_t>();
      if (n == "client") {
        if (!node.is_integer() || *number < 0 || *number > 255)
          fail(node.source(), key, "must be a client from 0 to 255");
        c.client = static_cast<std::uint32_t>(*number);
      } else if (n == "at") {
        const auto ns = node.is_string() ? parse_duration(*text) : std::nullopt;
        if (!ns) fail(node.source(), key, "must be a duration such as \"1200ms\"");
        c.at_ns = *ns;
      } else if (n == "op") {
        const auto op = node.is_string() ? op_named(*text) : std::nullopt;
        if (!op) fail(node.source(), key, "must be get, has, set, setE, setEIfUnset, expire, delete or deleteIfValue");
        c.call.op = static_cast<std::uint8_t>(*op);
        has_op = true;
      } else if (n == "key" || n == "value") {
        if (!node.is_string()) fail(node.source(), key, "must be a string");
        (n == "key" ? c.call.key : c.call.value) = *text;
      } else if (n == "expire_in" || n == "delete_in") {
        if (!node.is_integer() || *number < 0) fail(node.source(), key, "must be a whole number, 0 or more");
        (n == "expire_in" ? c.call.expire_in : c.call.delete_in) = static_cast<std::uint64_t>(*number);
      } else {
        fail(name.source(), key, "unknown key (client, at, op, key, value, expire_in, delete_in)");
      }
    }
    if (!has_op) fail(t.source(), list, "this call needs an op");
    return c;
  }

  // A call of a script names one of the eight operations of a history.
  static std::optional<operation_kind> op_named(std::string_view name) {
    const auto op = check::operation_named(name);
    if (op == operation_kind::info) return std::nullopt;
    return op;
  }

  // What only the settings together can get wrong.
  void check_together(const scenario& out) const {
    const auto range = [&](std::string_view key) -> std::optional<setting> {
      for (const setting& st : out.settings)
        if (fields[st.field].key == key) return st;
      return std::nullopt;
    };
    const toml::source_region nowhere{};
    const run_options defaults;
    const auto low = [&](std::string_view key, double fallback) {
      const auto st = range(key);
      return st ? st->low : fallback;
    };
    const auto high = [&](std::string_view key, double fallback) {
      const auto st = range(key);
      return st ? st->high : fallback;
    };
    if (high("cluster.heartbeat_ticks", defaults.node.raft.heartbeat_ticks) >=
        low("cluster.election_ticks", defaults.node.raft.election_ticks))
      fail(nowhere, "cluster.heartbeat_ticks", "must stay below cluster.election_ticks");
    const double nodes = low("cluster.nodes", static_cast<double>(defaults.nodes));
    const double until = low("duration", static_cast<double>(defaults.time_ns));
    if (high("cluster.founders", 0) > nodes) fail(nowhere, "cluster.founders", "must not exceed cluster.nodes");
    for (const planned_fault& p : out.schedule) {
      if (static_cast<double>(p.time_ns) >= until)
        fail(nowhere, "faults.at",
             fmt::format("the fault '{}' comes at or after the duration: faults end there", describe(p)));
      bool fits = p.what.node <= nodes && p.what.other <= nodes;
      for (const auto& g : p.what.groups)
        for (node_id n : g) fits = fits && n <= nodes;
      if (!fits)
        fail(nowhere, "faults.at",
             fmt::format("the fault '{}' names a node beyond cluster.nodes ({})", describe(p), nodes));
      if (p.side > 0 && static_cast<double>(p.side) >= nodes)
        fail(nowhere, "faults.at",
             fmt::format("the fault '{}' leaves the other side empty: side must be below cluster.nodes ({})",
                         describe(p), nodes));
    }
    const double clients = low("workload.clients", static_cast<double>(defaults.workload.clients));
    for (const scripted_call& c : out.script)
      if (c.client >= clients)
        fail(nowhere, "workload.call", fmt::format("client {} is beyond workload.clients ({})", c.client, clients));
  }

  static std::string show(const field& f, double v) {
    switch (f.type) {
      case kind::duration: return '"' + format_duration(static_cast<std::uint64_t>(v)) + '"';
      case kind::flag: return v != 0 ? "true" : "false";
      case kind::integer: return fmt::format("{}", static_cast<std::int64_t>(v));
      case kind::real: return fmt::format("{}", v);
    }
    return {};
  }

  friend std::string format_value(const field& f, double v);
  std::string path_;
};

std::string format_value(const field& f, double v) {
  std::string text = reader::show(f, v);
  if (f.type == kind::real && text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + '"';
}

// The comment paragraph at the top of a file, without its '#'.
std::string intent_of(std::string_view text) {
  std::string intent;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '#') break;
    line.erase(0, line.find_first_not_of("# "));
    if (!intent.empty()) intent += ' ';
    intent += line;
  }
  return intent;
}

}  // namespace

scenario parse_scenario(std::string_view text, const std::string& path) {
  reader r(path);
  scenario out;
  out.path = path;
  out.name = std::filesystem::path(path).stem().string();
  out.intent = intent_of(text);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    r.fail(e.source(), "", e.description());
  }
  r.read(root, out);
  return out;
}

scenario load_scenario(const std::string& path) {
  // A directory or an empty file would parse as no settings at all: the
  // default run, which passes, for a path that names no scenario.
  std::string text, why;
  if (!check::read_input_file(path, text, why)) throw scenario_error(path + ": " + why);
  return parse_scenario(text, path);
}

run_options instantiate(const scenario& sc, std::uint64_t seed) {
  run_options o;
  o.seed = seed;
  dkv::rng draw = dkv::rng(seed).derive(swarm_stream);
  for (const setting& st : sc.settings) {
    const field& f = fields[st.field];
    double v = st.low;
    if (st.high > st.low) {
      if (f.type == kind::real) {  // to three significant digits: a value one can read and write back
        v = st.low + (st.high - st.low) * static_cast<double>(draw.next() >> 11) * 0x1.0p-53;
        v = std::clamp(std::stod(fmt::format("{:.3g}", v)), st.low, st.high);
      } else {  // durations to the millisecond (microsecond) when the range spans 10 of them
        const double span = st.high - st.low;
        const double unit = f.type != kind::duration ? 1 : span >= 10 * ms ? ms : span >= 10e3 ? 1e3 : 1;
        const auto steps = static_cast<std::uint64_t>((st.high - st.low) / unit);
        v = st.low + unit * static_cast<double>(draw.below(steps + 1));
      }
    }
    f.set(o, v);
  }
  // Pairs drawn apart may cross: keep each pair in order.
  const auto order = [](auto& low, auto& high) { high = std::max(low, high); };
  order(o.workload.min_value_bytes, o.workload.max_value_bytes);
  order(o.network.min_latency_ns, o.network.max_latency_ns);
  order(o.disk.min_latency_ns, o.disk.max_latency_ns);
  order(o.random_plan.min_duration_ns, o.random_plan.max_duration_ns);
  o.schedule = sc.schedule;
  o.workload.script = sc.script;
  if (!sc.script.empty()) o.workload.scripted = true;
  o.bugs = sc.bugs;
  return o;
}

std::string misfit(const run_options& o) {
  for (const planned_fault& p : o.schedule) {
    bool fits = p.what.node <= o.nodes && p.what.other <= o.nodes && (p.side == 0 || p.side < o.nodes);
    for (const auto& g : p.what.groups)
      for (node_id n : g) fits = fits && n <= o.nodes;
    if (!fits) return fmt::format("the fault '{}' does not fit a cluster of {} nodes", describe(p), o.nodes);
  }
  for (const scripted_call& c : o.workload.script)
    if (c.client >= o.workload.clients)
      return fmt::format("a scripted call of client {} does not fit {} clients", c.client, o.workload.clients);
  return {};
}

std::vector<std::string> drawn_settings(const scenario& sc, const run_options& options) {
  std::vector<std::string> out;
  for (const setting& st : sc.settings)
    if (st.high > st.low) {
      const field& f = fields[st.field];
      out.push_back(fmt::format("{} = {}", f.key, format_value(f, f.get(options))));
    }
  return out;
}

std::string to_toml(const run_options& o, std::string_view intent) {
  std::string out;
  std::istringstream words{std::string(intent)};
  std::string line;
  for (std::string word; words >> word;) {
    if (line.size() + word.size() > 86) {
      out += "#" + line + "\n";
      line.clear();
    }
    line += " " + word;
  }
  if (!line.empty()) out += "#" + line + "\n";
  out += fmt::format("\nseed = {}\n", o.seed);
  if (o.bugs != 0) {
    out += "bugs = [";
    const auto names = dkv::bugs::names(o.bugs);
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + toml_string(names[i]);
    out += "]\n";
  }
  std::string section;
  for (const field& f : fields) {
    const std::size_t dot = f.key.rfind('.');
    const std::string here = dot == std::string_view::npos ? "" : std::string(f.key.substr(0, dot));
    if (here != section) {
      out += fmt::format("\n[{}]\n", here);
      section = here;
    }
    out += fmt::format("{} = {}\n", dot == std::string_view::npos ? f.key : f.key.substr(dot + 1),
                       format_value(f, f.get(o)));
  }
  // In time order, for the reader; faults at one instant keep theirs, the
  // order they apply in.
  std::vector<planned_fault> schedule = o.schedule;
  std::stable_sort(schedule.begin(), schedule.end(),
                   [](const planned_fault& a, const planned_fault& b) { return a.time_ns < b.time_ns; });
  for (const planned_fault& p : schedule) {
    out += fmt::format("\n[[faults.at]]  # {}\ntime = \"{}\"\nkind = ", describe(p), format_duration(p.time_ns));
    const fault& f = p.what;
    out += fmt::format("\"{}\"", kind_name(f.kind));
    out += "\n";
    if (p.role != node_role::given)
      out += p.role == node_role::leader ? "node = \"leader\"\n" : "node = \"follower\"\n";
    else if (f.node != 0)
      out += fmt::format("node = {}\n", f.node);
    if (f.other != 0) out += fmt::format("other = {}\n", f.other);
    if (p.side != 0) out += fmt::format("side = {}\n", p.side);
    if (!f.groups.empty() && !(p.side != 0 && f.kind == fault_kind::split)) {
      out += "groups = [";
      for (std::size_t g = 0; g < f.groups.size(); ++g) {
        out += g ? ", [" : "[";
        for (std::size_t i = 0; i < f.groups[g].size(); ++i) out += fmt::format("{}{}", i ? ", " : "", f.groups[g][i]);
        out += "]";
      }
      out += "]\n";
    }
    if (f.kind == fault_kind::reboot) out += fmt::format("downtime = \"{}\"\n", format_duration(f.downtime_ns));
    if (f.kind == fault_kind::clock) {
      const auto magnitude = static_cast<std::uint64_t>(f.clock.skew_ns < 0 ? -f.clock.skew_ns : f.clock.skew_ns);
      out += fmt::format("skew = \"{}{}\"\ndrift_ppm = {}\n", f.clock.skew_ns < 0 ? "-" : "",
                         format_duration(magnitude), f.clock.drift_ppm);
    }
  }
  for (const scripted_call& c : o.workload.script) {
    out += fmt::format("\n[[workload.call]]\nclient = {}\nat = \"{}\"\nop = \"{}\"\nkey = {}\n", c.client,
                       format_duration(c.at_ns), check::history_name(static_cast<operation_kind>(c.call.op)),
                       toml_string(c.call.key));
    if (!c.call.value.empty()) out += fmt::format("value = {}\n", toml_string(c.call.value));
    if (c.call.expire_in) out += fmt::format("expire_in = {}\n", c.call.expire_in);
    if (c.call.delete_in) out += fmt::format("delete_in = {}\n", c.call.delete_in);
  }
  return out;
}

}  // namespace dkv::sim
