#include "check/linearizability/checker.hpp"

#include <map>

#include "check/linearizability/dkv_check.hpp"
#include "check/linearizability/models.hpp"
#include "check/linearizability/parts.hpp"
#include "check/linearizability/wgl.hpp"

namespace dkv::check {

std::optional<model_kind> parse_model_kind(std::string_view name) {
  if (name == "auto") return model_kind::automatic;
  if (name == "dkv") return model_kind::dkv;
  if (name == "register") return model_kind::register_;
  if (name == "kv") return model_kind::kv;
  return std::nullopt;
}

std::string_view model_name(model_kind kind) noexcept {
  switch (kind) {
    case model_kind::automatic: return "auto";
    case model_kind::dkv: return "dkv";
    case model_kind::register_: return "register";
    case model_kind::kv: return "kv";
  }
  return "unknown";
}

namespace {

model_kind resolve(model_kind requested, history_format format) {
  if (requested != model_kind::automatic) return requested;
  switch (format) {
    case history_format::jepsen_register: return model_kind::register_;
    case history_format::edn_kv: return model_kind::kv;
    default: return model_kind::dkv;
  }
}

std::vector<timed_op<register_model>> register_ops(const history& h, const part& ids) {
  std::vector<timed_op<register_model>> ops;
  for (std::size_t id : ids) {
    const operation& o = h.operations[id];
    register_model::op op;
    op.known = o.result == outcome::ok;
    if (o.f == "read") {
      op.what = register_model::kind::read;
      op.read_value = o.result_number;
    } else if (o.f == "write") {
      op.what = register_model::kind::write;
      op.a = o.a.value_or(0);
    } else {
      op.what = register_model::kind::cas;
      op.a = o.a.value_or(0);
      op.b = o.b.value_or(0);
    }
    ops.push_back({op, o.call_ns, o.return_ns, id});
  }
  return ops;
}

std::vector<timed_op<kv_model>> kv_ops(const history& h, const part& ids) {
  std::map<std::string, std::uint32_t> key_ids;  // dense ids within the part
  std::vector<timed_op<kv_model>> ops;
  for (std::size_t id : ids) {
    const operation& o = h.operations[id];
    kv_model::op op;
    op.known = o.result == outcome::ok;
    op.key = key_ids.try_emplace(o.key, static_cast<std::uint32_t>(key_ids.size())).first->second;
    if (o.f == "get") {
      op.what = kv_model::kind::get;
      op.value = o.result_value.value_or("");
    } else {
      op.what = o.f == "put" ? kv_model::kind::put : kv_model::kind::append;
      op.value = o.value;
    }
    ops.push_back({std::move(op), o.call_ns, o.return_ns, id});
  }
  return ops;
}

// The register and kv models: a WGL search per part.
void check_by_search(const history& h, const check_options& options, check_report& report) {
  const parts split = partition_by_key(h, options.split && report.model == model_kind::kv);
  std::vector<partition_result> results;
  if (report.model == model_kind::register_) {
    results = check_parts(
        split.operations.size(), options.threads,
        [&](std::size_t i, const check_budget& b) {
          return wgl_check(register_model{}, register_ops(h, split.operations[i]), b);
        },
        options.budget);
  } else {
    results = check_parts(
        split.operations.size(), options.threads,
        [&](std::size_t i, const check_budget& b) { return wgl_check(kv_model{}, kv_ops(h, split.operations[i]), b); },
        options.budget);
  }
  // The verdict: the lowest failing part, else the lowest unknown one.
  report.partitions = split.operations.size();
  std::optional<std::size_t> failing, unknown;
  for (std::size_t i = 0; i < results.size(); ++i) {
    report.steps += results[i].steps;
    if (results[i].result == verdict::not_linearizable && !failing) failing = i;
    if (results[i].result == verdict::unknown && !unknown) unknown = i;
  }
  const std::optional<std::size_t> chosen = failing ? failing : unknown;
  if (!chosen) return;
  report.result = failing ? verdict::not_linearizable : verdict::unknown;
  report.part = split.names[*chosen];
  report.part_ops = split.operations[*chosen];
  report.longest_prefix = results[*chosen].longest_prefix;
  if (results[*chosen].has_stuck) report.stuck = results[*chosen].stuck;
}

std::string summarize(const history& h, const check_report& r) {
  if (r.result == verdict::linearizable)
    return "linearizable: " + std::to_string(h.operations.size()) + " operations, " + std::to_string(r.partitions) +
           (r.partitions == 1 ? " part" : " parts");
  std::string out = r.result == verdict::unknown ? "unknown (the step budget ran out)" : "not linearizable";
  if (!r.part.empty()) out += ", key '" + r.part + "'";
  if (!r.explanation.empty()) out += ": " + r.explanation;
  if (r.stuck && *r.stuck < h.operations.size()) {
    const operation& o = h.operations[*r.stuck];
    out += "; first operation that cannot be placed: #" + std::to_string(*r.stuck) + " " + o.f + " by process " +
           std::to_string(o.process);
  }
  return out;
}

}  // namespace

check_report check_history(const history& h, const check_options& options) {
  check_report report;
  report.model = resolve(options.model, h.format);
  if (report.model == model_kind::dkv)
    check_dkv_model(h, options, report);
  else
    check_by_search(h, options, report);
  report.summary = summarize(h, report);
  return report;
}

std::optional<std::size_t> failing_operation(const history& h, const check_report& report) {
  if (report.result != verdict::not_linearizable) return std::nullopt;
  if (report.stuck && *report.stuck < h.operations.size()) return report.stuck;
  std::optional<std::size_t> last;
  for (std::size_t id : report.part_ops)
    if (id < h.operations.size() && (!last || h.operations[id].call_ns >= h.operations[*last].call_ns)) last = id;
  return last;
}

}  // namespace dkv::check
