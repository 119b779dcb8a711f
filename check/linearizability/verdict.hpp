#pragma once
// What every search of the checker returns and obeys: a verdict, a budget of
// steps (deterministic: it counts steps, not time) with two ways to stop
// early, and the result for one part of a history.

#include <atomic>
#include <cstdint>
#include <vector>

namespace dkv::check {

enum class verdict : std::uint8_t { linearizable, not_linearizable, unknown };

struct check_budget {
  std::uint64_t max_steps = 50'000'000;        // per partition, deterministic
  const std::atomic<bool>* cancel = nullptr;   // set by a caller's wall-clock timeout
  const std::atomic<bool>* abandon = nullptr;  // set by the checker when the answer no longer matters

  bool stopped() const noexcept {
    return (cancel && cancel->load(std::memory_order_relaxed)) || (abandon && abandon->load(std::memory_order_relaxed));
  }
};

struct partition_result {
  verdict result = verdict::linearizable;
  std::vector<std::size_t> longest_prefix;  // ids, in the order they were linearized
  std::size_t stuck = 0;                    // the first operation that cannot be placed after that prefix
  bool has_stuck = false;
  std::uint64_t steps = 0;
  bool out_of_steps = false;  // unknown because the step budget ran out (not cancelled)
};

// The verdict of a depth-first search that spent `steps` steps: unknown if
// it was stopped (by its budget or a caller), else whether it found one.
inline verdict search_verdict(bool found, bool stopped, std::uint64_t steps, const check_budget& budget,
                              partition_result& out) {
  out.steps = steps;
  out.out_of_steps = stopped && steps > budget.max_steps;
  out.result = stopped ? verdict::unknown : found ? verdict::linearizable : verdict::not_linearizable;
  return out.result;
}

}  // namespace dkv::check
