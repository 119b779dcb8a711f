#include "sim/check/dkv_check.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "sim/check/dkv_model.hpp"

namespace dkv::sim {

namespace {

// Index gaps: indexes below the highest one that no ok write holds, each with
// the latest time an info write may be invoked and still take it (the
// earliest return of an ok operation that comes after it in index order).
struct gap_table {
  std::vector<std::uint64_t> index;     // ascending
  std::vector<std::uint64_t> deadline;  // non-decreasing along `index`
  std::vector<bool> taken;              // by an earlier key's search

  // The first free gap after `after` that an info write invoked at `call` may take.
  std::optional<std::size_t> first_usable(std::uint64_t after, std::uint64_t call) const {
    auto it = std::upper_bound(index.begin(), index.end(), after);
    for (auto i = static_cast<std::size_t>(it - index.begin()); i < index.size(); ++i)
      if (!taken[i] && deadline[i] >= call) return i;
    return std::nullopt;
  }
};

// One key's store entry and the index of the last operation placed on it.
struct keyed_state {
  dkv_entry entry;
  std::uint64_t at = 0;
  bool operator==(const keyed_state&) const = default;
};

struct keyed_op {
  dkv_op op;
  std::optional<std::uint64_t> index;  // ok operations: the witness
  std::uint64_t call_ns = 0;
};

// One key, searched by WGL: ok operations must come in index order (the
// model refuses anything else); an info write takes the first usable gap
// after the last placed index, or — if there is none — has no effect.
struct keyed_dkv_model {
  using state = keyed_state;
  using op = keyed_op;
  const gap_table* gaps;

  static state initial() { return {}; }
  static std::uint64_t hash(const state& s) {
    return dkv_store_model::hash({s.at, {s.entry}});
  }
  bool step(const state& s, const op& o, state& next) const {
    next = s;
    if (o.index) {
      const std::uint64_t i = *o.index;
      if (is_write(o.op.kind)) {
        if (i <= s.at) return false;
        next.at = i;
        const bool deleted = apply_write(next.entry, o.op, i);
        return o.op.kind != dkv_op_kind::remove_if_value || deleted == o.op.found;
      }
      if (i < s.at) return false;
      next.at = i;
      return read_matches(s.entry, o.op, i);
    }
    if (!is_write(o.op.kind)) return true;  // an info read constrains nothing
    if (const auto g = gaps->first_usable(s.at, o.call_ns)) {
      next.at = gaps->index[*g];
      apply_write(next.entry, o.op, next.at);
    }
    return true;
  }
};

struct converted {
  std::vector<std::string> keys;                         // sorted
  std::vector<std::vector<std::size_t>> ops_by_key;      // history ids (not fail), call order
  std::vector<dkv_op> ops;                               // by history id
  bool all_indexed = true;
};

converted convert(const history& h) {
  converted c;
  std::map<std::string, std::vector<std::size_t>> by_key;
  c.ops.resize(h.operations.size());
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result == outcome::fail) continue;
    dkv_op& op = c.ops[id];
    parse_dkv_op(o.f, op.kind);  // the parser accepted only known names
    op.value = o.f == "get" ? o.result_value.value_or("") : o.value;
    op.expire_in = o.expire_in;
    op.delete_in = o.delete_in;
    op.found = o.found;
    op.known = o.result == outcome::ok;
    if (op.known && !o.index) c.all_indexed = false;
    by_key[o.key].push_back(id);
  }
  for (auto& [key, ids] : by_key) {
    for (std::size_t id : ids) c.ops[id].key = static_cast<std::uint32_t>(c.keys.size());
    c.keys.push_back(key);
    c.ops_by_key.push_back(std::move(ids));
  }
  return c;
}

std::string describe(const history& h, std::size_t id) {
  const operation& o = h.operations[id];
  std::string s = "#" + std::to_string(id) + " " + o.f + "(" + o.key + ") by process " + std::to_string(o.process);
  if (o.index) s += " at index " + std::to_string(*o.index);
  return s;
}

check_report violation(check_report report, const history& h, std::vector<std::size_t> ops, std::string why) {
  report.result = verdict::not_linearizable;
  report.part = ops.empty() ? "" : h.operations[ops.front()].key;
  report.part_ops = std::move(ops);
  report.explanation = std::move(why);
  return report;
}

// Histories without indexes: one WGL search over the whole store.
check_report check_unsplit(const history& h, const converted& c, const check_options& options, check_report report) {
  std::vector<timed_op<dkv_store_model>> ops;
  for (std::size_t id = 0; id < h.operations.size(); ++id)
    if (h.operations[id].result != outcome::fail)
      ops.push_back({c.ops[id], h.operations[id].call_ns, h.operations[id].return_ns, id});
  const partition_result r = wgl_check(dkv_store_model{}, ops, options.budget);
  report.partitions = 1;
  report.steps = r.steps;
  report.result = r.result;
  if (r.result != verdict::linearizable) {
    for (const auto& op : ops) report.part_ops.push_back(op.id);
    report.longest_prefix = r.longest_prefix;
    if (r.has_stuck) report.stuck = r.stuck;
  }
  return report;
}

// Where a key's search put its info writes: (gap position, history id).
using placements = std::vector<std::pair<std::size_t, std::size_t>>;

// Gaps no key's search used must still be taken by info writes that the
// searches left unplaced, each late enough in index order that no ok
// operation on its key observes it. Both conditions only relax as the gap
// index grows, so counting along the gaps decides it.
bool remaining_gaps_explained(const history& h, const converted& c, const gap_table& gaps,
                              const std::vector<placements>& placed, const std::vector<std::size_t>& info_writes) {
  std::vector<bool> taken(gaps.index.size(), false);
  std::set<std::size_t> placed_ids;
  for (const auto& key_placed : placed)
    for (const auto& [g, id] : key_placed) {
      taken[g] = true;
      placed_ids.insert(id);
    }
  std::vector<std::uint64_t> last_index(c.keys.size(), 0);
  for (std::size_t id = 0; id < h.operations.size(); ++id)
    if (h.operations[id].result == outcome::ok)
      last_index[c.ops[id].key] = std::max(last_index[c.ops[id].key], *h.operations[id].index);
  std::vector<std::size_t> starts;  // the first gap position each unplaced info write may take
  for (std::size_t id : info_writes) {
    if (placed_ids.count(id)) continue;
    const auto by_time = static_cast<std::size_t>(
        std::lower_bound(gaps.deadline.begin(), gaps.deadline.end(), h.operations[id].call_ns) - gaps.deadline.begin());
    const auto by_key = static_cast<std::size_t>(
        std::upper_bound(gaps.index.begin(), gaps.index.end(), last_index[c.ops[id].key]) - gaps.index.begin());
    starts.push_back(std::max(by_time, by_key));
  }
  std::sort(starts.begin(), starts.end());
  std::size_t need = 0, available = 0;
  for (std::size_t g = 0; g < gaps.index.size(); ++g) {
    while (available < starts.size() && starts[available] <= g) ++available;
    if (!taken[g] && available < ++need) return false;
  }
  return true;
}

}  // namespace

check_report check_dkv_history(const history& h, const check_options& options) {
  check_report report;
  report.model = model_kind::dkv;
  const converted c = convert(h);
  if (!c.all_indexed || !options.split) return check_unsplit(h, c, options, report);

  // 1. Unique write indexes.
  std::map<std::uint64_t, std::size_t> writer;
  std::uint64_t highest = 0;
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result != outcome::ok) continue;
    highest = std::max(highest, *o.index);
    if (!is_write(c.ops[id].kind)) continue;
    if (*o.index == 0) return violation(report, h, {id}, describe(h, id) + ": a write cannot have index 0");
    const auto [it, fresh] = writer.emplace(*o.index, id);
    if (!fresh)
      return violation(report, h, {it->second, id},
                       "index " + std::to_string(*o.index) + " is used by two writes, " + describe(h, it->second) +
                           " and " + describe(h, id) + ": a duplicated write");
  }

  // 2. Index order agrees with real time: non-decreasing points inside each interval.
  struct positioned {
    std::uint64_t index;
    bool read;
    std::uint64_t call, ret;
    std::size_t id;
  };
  std::vector<positioned> order;
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result == outcome::ok) order.push_back({*o.index, !is_write(c.ops[id].kind), o.call_ns, o.return_ns, id});
  }
  std::sort(order.begin(), order.end(), [](const positioned& a, const positioned& b) {
    if (a.index != b.index) return a.index < b.index;
    if (a.read != b.read) return !a.read;
    return a.call < b.call;
  });
  std::uint64_t point = 0;
  std::size_t latest_call = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (order[k].call > point) {
      point = order[k].call;
      latest_call = k;
    }
    if (point > order[k].ret)
      return violation(report, h, {order[k].id, order[latest_call].id},
                       describe(h, order[k].id) + " returned before " + describe(h, order[latest_call].id) +
                           " was invoked, yet comes after it in index order");
  }

  // 3. Every index up to the highest is explained: gaps need info writes invoked in time.
  gap_table gaps;
  {
    std::vector<std::uint64_t> suffix_min(order.size() + 1, never);
    for (std::size_t k = order.size(); k-- > 0;) suffix_min[k] = std::min(suffix_min[k + 1], order[k].ret);
    std::size_t k = 0;
    for (std::uint64_t g = 1; g <= highest; ++g) {
      if (writer.count(g)) continue;
      while (k < order.size() && order[k].index < g) ++k;
      gaps.index.push_back(g);
      gaps.deadline.push_back(suffix_min[k]);
    }
    gaps.taken.assign(gaps.index.size(), false);
  }
  std::vector<std::size_t> info_writes;
  for (std::size_t id = 0; id < h.operations.size(); ++id)
    if (h.operations[id].result == outcome::info && is_write(c.ops[id].kind)) info_writes.push_back(id);
  std::sort(info_writes.begin(), info_writes.end(),
            [&](std::size_t a, std::size_t b) { return h.operations[a].call_ns < h.operations[b].call_ns; });
  for (std::size_t g = 0, eligible = 0; g < gaps.index.size(); ++g) {
    // Deadlines do not decrease, so the writes eligible for a gap only grow: count them.
    while (eligible < info_writes.size() && h.operations[info_writes[eligible]].call_ns <= gaps.deadline[g]) ++eligible;
    if (eligible < g + 1)
      return violation(report, h, {},
                       "index " + std::to_string(gaps.index[g]) +
                           " was taken by a write that no operation of the history can account for: a lost or "
                           "phantom write");
  }

  // 4. Each key's reads against its writes in index order (info writes searched).
  auto key_ops = [&](std::size_t key) {
    std::vector<timed_op<keyed_dkv_model>> ops;
    for (std::size_t id : c.ops_by_key[key]) {
      const operation& o = h.operations[id];
      ops.push_back({{c.ops[id], o.result == outcome::ok ? o.index : std::nullopt, o.call_ns}, o.call_ns, o.return_ns, id});
    }
    return ops;
  };
  // Replays a key's linearization to see which gaps its info writes took.
  auto gaps_taken = [&](const std::vector<std::size_t>& linearization, placements& used) {
    keyed_state s;
    const keyed_dkv_model model{&gaps};
    for (std::size_t id : linearization) {
      const operation& o = h.operations[id];
      keyed_state next;
      model.step(s, {c.ops[id], o.result == outcome::ok ? o.index : std::nullopt, o.call_ns}, next);
      if (o.result == outcome::info && is_write(c.ops[id].kind) && next.at != s.at)
        used.emplace_back(
            static_cast<std::size_t>(std::lower_bound(gaps.index.begin(), gaps.index.end(), next.at) - gaps.index.begin()),
            id);
      s = std::move(next);
    }
  };

  const std::size_t key_count = c.keys.size();
  report.partitions = key_count;
  auto check_key = [&](std::size_t key, const check_budget& b) { return wgl_check(keyed_dkv_model{&gaps}, key_ops(key), b); };
  std::vector<partition_result> results = check_parts(key_count, options.threads, check_key, options.budget);

  // The keys' searches ran independently; their info writes must not share a gap.
  std::vector<placements> used(key_count);
  bool conflict = false;
  {
    std::vector<bool> seen(gaps.index.size(), false);
    for (std::size_t key = 0; key < key_count; ++key) {
      if (results[key].result != verdict::linearizable) continue;
      gaps_taken(results[key].longest_prefix, used[key]);
      for (const auto& placement : used[key]) {
        conflict = conflict || seen[placement.first];
        seen[placement.first] = true;
      }
    }
  }
  if (conflict) {
    // Search again, one key after another, each leaving the gaps taken before it.
    for (std::size_t key = 0; key < key_count; ++key) {
      if (results[key].result != verdict::linearizable) continue;
      const partition_result again = check_key(key, options.budget);
      if (again.result != verdict::linearizable) {
        results[key] = again;
        results[key].result = verdict::unknown;  // it passed with every gap: the placement search is what failed
        report.explanation = "could not place the info writes of several keys into distinct index gaps";
        continue;
      }
      results[key] = again;
      used[key].clear();
      gaps_taken(again.longest_prefix, used[key]);
      for (const auto& placement : used[key]) gaps.taken[placement.first] = true;
    }
  }

  std::optional<std::size_t> failing, unknown;
  for (std::size_t key = 0; key < key_count; ++key) {
    report.steps += results[key].steps;
    if (results[key].result == verdict::not_linearizable && !failing) failing = key;
    if (results[key].result == verdict::unknown && !unknown) unknown = key;
  }
  if (!failing && !unknown && !remaining_gaps_explained(h, c, gaps, used, info_writes)) {
    report.result = verdict::unknown;
    report.explanation = "the index gaps left by the per-key searches could not all be given to unused info writes";
    return report;
  }
  if (const auto chosen = failing ? failing : unknown) {
    report.result = failing ? verdict::not_linearizable : verdict::unknown;
    report.part = c.keys[*chosen];
    report.part_ops = c.ops_by_key[*chosen];
    report.longest_prefix = results[*chosen].longest_prefix;
    if (results[*chosen].has_stuck) report.stuck = results[*chosen].stuck;
    if (failing && results[*chosen].has_stuck)
      report.explanation = describe(h, results[*chosen].stuck) + " cannot be placed: no state of key '" +
                           c.keys[*chosen] + "' at its index explains its result";
    return report;
  }
  return report;
}

}  // namespace dkv::sim
