#include "check/linearizability/parts.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <thread>

namespace dkv::check {

parts partition_by_key(const history& h, bool split) {
  std::map<std::string, part> by_key;
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    if (h.operations[id].result == outcome::fail) continue;
    by_key[split ? h.operations[id].key : std::string()].push_back(id);
  }
  parts out;
  for (auto& [key, ids] : by_key) {
    out.names.push_back(key);
    out.operations.push_back(std::move(ids));
  }
  return out;
}

namespace {

// One round: checks `pending` with `round_budget` on up to `threads` threads,
// adding each result (and its steps) into `results`. Returns the position in
// `pending` of the lowest part that failed, or pending.size().
std::size_t check_round(const std::vector<std::size_t>& pending, unsigned threads,
                        const std::function<partition_result(std::size_t, const check_budget&)>& check,
                        const check_budget& round_budget, std::vector<partition_result>& results) {
  std::vector<std::unique_ptr<std::atomic<bool>>> abandon(pending.size());
  for (auto& flag : abandon) flag = std::make_unique<std::atomic<bool>>(false);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> lowest_failure{pending.size()};
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
  const unsigned n = static_cast<unsigned>(std::min<std::size_t>(threads, pending.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return lowest_failure.load();
}

}  // namespace

std::vector<partition_result> check_parts(
    std::size_t count, unsigned threads, const std::function<partition_result(std::size_t, const check_budget&)>& check,
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

    const std::size_t lowest_failure = check_round(pending, wanted, check, round_budget, results);
    if (lowest_failure < pending.size()) {
      // Decided: parts after the lowest failure of this round do not matter.
      for (std::size_t k = lowest_failure + 1; k < pending.size(); ++k) results[pending[k]].result = verdict::unknown;
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

}  // namespace dkv::check
