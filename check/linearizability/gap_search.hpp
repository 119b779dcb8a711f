#pragma once
// The last resort of the dkv check: one depth-first search over the whole
// history in index order, choosing for every index gap the info write that
// took it (each gap must be taken by exactly one, invoked early enough) and
// replaying every key's operations on the way. Complete within its budget:
// exhausting it proves that no arrangement exists.

#include <cstdint>
#include <vector>

#include "check/linearizability/dkv_model.hpp"
#include "check/linearizability/key_search.hpp"

namespace dkv::check {

struct gap_search_step {
  std::size_t id;
  dkv_op op;
  std::uint64_t index;
};

struct gap_search_result {
  partition_result result;  // stuck: the deepest operation that could not be explained
};

// `steps`: the ok operations in index order (writes before reads at one
// index); `infos`: the info writes by call time, with their call times;
// `key_count`: keys are the ops' dense ids.
gap_search_result search_gaps(const std::vector<gap_search_step>& steps, const std::vector<key_info_write>& infos,
                              const gap_table& gaps, std::size_t key_count, const check_budget& budget);

}  // namespace dkv::check
