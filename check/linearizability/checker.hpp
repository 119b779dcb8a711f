#pragma once
// The linearizability checker: `check_history` is its one entry point. It
// picks a model, splits the history into independent parts (by key, where
// the model allows: parts.hpp), checks the parts in parallel, and reports one
// deterministic verdict — budgets count search steps, not time, and the
// failing part reported is the same on every run.
//
// Models: register (Jepsen logs), kv (EDN logs; split by key unless told
// not to), dkv (docs/spec.md's store with its logical clock: with indexes on
// the results, the index witness check of dkv_check.hpp; without, one
// unsplit search).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/verdict.hpp"

namespace dkv::check {

enum class model_kind : std::uint8_t { automatic, dkv, register_, kv };

std::optional<model_kind> parse_model_kind(std::string_view name);
std::string_view model_name(model_kind kind) noexcept;

struct check_options {
  model_kind model = model_kind::automatic;  // automatic: from the history's format
  bool split = true;
  check_budget budget;
  unsigned threads = 0;  // 0: one per core
};

struct check_report {
  verdict result = verdict::linearizable;
  model_kind model = model_kind::automatic;
  std::size_t partitions = 0;
  std::uint64_t steps = 0;
  // For a failure (or an unknown), the part concerned:
  std::string part;                   // its key; empty when unsplit
  std::vector<std::size_t> part_ops;  // the operations involved (ids = positions in history.operations)
  std::vector<std::size_t> longest_prefix;
  std::optional<std::size_t> stuck;  // the first operation that cannot be placed after the prefix
  std::string explanation;           // e.g. "index 17 is used twice (a duplicated write)"
  // One line: "linearizable: 120 operations, 3 parts", or why not.
  std::string summary;

  bool ok() const noexcept { return result == verdict::linearizable; }
};

check_report check_history(const history& h, const check_options& options = {});

// The operation a failure points at, for the report's timeline: the first
// that cannot be placed, else of the operations involved the one invoked
// last (a duplicated write's second, the later of two out of index order).
// None when the history is not found failing, or the failure involves no
// operation (an index that no write accounts for).
std::optional<std::size_t> failing_operation(const history& h, const check_report& report);

}  // namespace dkv::check
