#include "sim/check/checker.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "sim/check/dkv_check.hpp"
#include "sim/check/models.hpp"

namespace dkv::sim {

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

std::vector<partition_result> check_parts(std::size_t count, unsigned threads,
                                          const std::function<partition_result(std::size_t, const check_budget&)>& check,
                                          const check_budget& budget) {
  constexpr std::uint64_t first_round_steps = 100'000;
  std::vector<partition_result> results(count);
  std::vector<std::size_t> pending(count);
  for (std::size_t i = 0; i < count; ++i) pending[i] = i;
  const unsigned wanted = threads ? threads : std::max(1u, std::thread::hardware_concurrency());

  for (std::uint64_t round = first_round_steps; !pending.empty(); round *= 4) {
    if (pending.size() == 1) round = budget.max_steps;  // rounds only matter between parts
    const bool last_round = round >= budget.max_steps;
    check_budget round_budget = budget;
    round_budget.max_steps = std::min(round, budget.max_steps);

    std::vector<std::unique_ptr<std::atomic<bool>>> abandon(pending.size());
    for (auto& flag : abandon) flag = std::make_unique<std::atomic<bool>>(false);
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> lowest_failure{pending.size()};  // position in `pending`
    auto worker = [&] {
      for (std::size_t k; (k = next.fetch_add(1)) < pending.size();) {
        if (k > lowest_failure.load()) continue;  // a lower part already failed this round
        check_budget own = round_budget;
        own.abandon = abandon[k].get();
        partition_result r = check(pending[k], own);
        const std::uint64_t spent = results[pending[k]].steps;
        results[pending[k]] = std::move(r);
        results[pending[k]].steps += spent;
        if (results[pending[k]].result != verdict::not_linearizable) continue;
        std::size_t seen = lowest_failure.load();
        while (k < seen && !lowest_failure.compare_exchange_weak(seen, k)) {
        }
        for (std::size_t j = k + 1; j < pending.size(); ++j) abandon[j]->store(true);
      }
    };
    const unsigned n = static_cast<unsigned>(std::min<std::size_t>(wanted, pending.size()));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();

    if (lowest_failure.load() < pending.size()) {
      // Decided: parts after the lowest failure of this round do not matter.
      for (std::size_t k = lowest_failure.load() + 1; k < pending.size(); ++k)
        results[pending[k]].result = verdict::unknown;
      break;
    }
    if (last_round || budget.stopped()) break;
    std::vector<std::size_t> still;
    for (std::size_t i : pending)
      if (results[i].result == verdict::unknown && results[i].out_of_steps) still.push_back(i);
    pending.swap(still);
  }
  return results;
}

namespace {

using part = std::vector<std::size_t>;  // operation ids, in call order

// Fills the report from per-part results: the lowest failing part, else the lowest unknown.
void summarize(check_report& report, const std::vector<std::string>& names, const std::vector<part>& parts,
               const std::vector<partition_result>& results) {
  report.partitions = parts.size();
  std::optional<std::size_t> failing, unknown;
  for (std::size_t i = 0; i < results.size(); ++i) {
    report.steps += results[i].steps;
    if (results[i].result == verdict::not_linearizable && !failing) failing = i;
    if (results[i].result == verdict::unknown && !unknown) unknown = i;
  }
  const std::optional<std::size_t> chosen = failing ? failing : unknown;
  if (!chosen) return;
  report.result = failing ? verdict::not_linearizable : verdict::unknown;
  report.part = names[*chosen];
  report.part_ops = parts[*chosen];
  report.longest_prefix = results[*chosen].longest_prefix;
  if (results[*chosen].has_stuck) report.stuck = results[*chosen].stuck;
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

// Operations that may have taken effect (fail ones took none), split by key or kept whole.
void partition_by_key(const history& h, bool split, std::vector<std::string>& names, std::vector<part>& parts) {
  std::map<std::string, part> by_key;
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    if (h.operations[id].result == outcome::fail) continue;
    by_key[split ? h.operations[id].key : std::string()].push_back(id);
  }
  for (auto& [key, ids] : by_key) {
    names.push_back(key);
    parts.push_back(std::move(ids));
  }
}

model_kind resolve(model_kind requested, history_format format) {
  if (requested != model_kind::automatic) return requested;
  switch (format) {
    case history_format::jepsen_register: return model_kind::register_;
    case history_format::edn_kv: return model_kind::kv;
    default: return model_kind::dkv;
  }
}

}  // namespace

check_report check_history(const history& h, const check_options& options) {
  check_report report;
  report.model = resolve(options.model, h.format);
  if (report.model == model_kind::dkv) return check_dkv_history(h, options);

  std::vector<std::string> names;
  std::vector<part> parts;
  partition_by_key(h, options.split && report.model == model_kind::kv, names, parts);
  std::vector<partition_result> results;
  if (report.model == model_kind::register_) {
    results = check_parts(parts.size(), options.threads, [&](std::size_t i, const check_budget& b) {
      return wgl_check(register_model{}, register_ops(h, parts[i]), b);
    }, options.budget);
  } else {
    results = check_parts(parts.size(), options.threads, [&](std::size_t i, const check_budget& b) {
      return wgl_check(kv_model{}, kv_ops(h, parts[i]), b);
    }, options.budget);
  }
  summarize(report, names, parts, results);
  return report;
}

}  // namespace dkv::sim
