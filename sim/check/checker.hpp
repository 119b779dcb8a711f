#pragma once
// The linearizability checker: picks a model, splits the history into
// independent parts (P-compositionality: by key, or whatever the model's
// partition function says), checks the parts in parallel, and reports one
// deterministic verdict.
//
// Proving a part not linearizable means exhausting its search, which can take
// far longer for one part than for another. So parts are checked in rounds
// of growing step budgets (each round four times the last, up to the
// budget's maximum): the first round in which any part fails decides, and the
// report names the lowest failing key of that round — the same key on every
// run and machine, since budgets count steps, not time.
//
// Models: register (Jepsen logs), kv (EDN logs; split by key unless told
// not to), dkv (SPEC.md's store with its logical clock: with indexes on the
// results, the index witness check of dkv_check.hpp; without, one unsplit
// search).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/check/wgl.hpp"
#include "sim/history/history.hpp"

namespace dkv::sim {

enum class model_kind : std::uint8_t { automatic, dkv, register_, kv };

std::optional<model_kind> parse_model_kind(std::string_view name);
std::string_view model_name(model_kind kind) noexcept;

struct check_options {
  model_kind model = model_kind::automatic;
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
  std::string part;                     // its key; empty when unsplit
  std::vector<std::size_t> part_ops;    // the operations involved (ids = positions in history.operations)
  std::vector<std::size_t> longest_prefix;
  std::optional<std::size_t> stuck;     // the first operation that cannot be placed after the prefix
  std::string explanation;              // e.g. "index 17 is used twice (a duplicated write)"
};

check_report check_history(const history& h, const check_options& options);

// Runs `count` independent checks on up to `threads` threads in rounds of
// growing budgets (see above); returns their results by position. Within a
// round, once part k fails, parts after k are abandoned.
std::vector<partition_result> check_parts(std::size_t count, unsigned threads,
                                          const std::function<partition_result(std::size_t, const check_budget&)>& check,
                                          const check_budget& budget);

}  // namespace dkv::sim
