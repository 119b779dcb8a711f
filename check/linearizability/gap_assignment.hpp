#pragma once
// Every index gap must be taken by exactly one info write. The per-key
// searches (key_search.hpp) said which info writes must act in their key
// (and between which of its operations); others may act wherever their key
// does not notice. Keys searched independently may have put writes into the
// same gap: the assignment moves them apart within their ranges and gives
// every gap left a write, or says why it cannot. Failing is never a verdict:
// the caller searches again (as groups of keys, or all gaps at once).

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/dkv_view.hpp"
#include "check/linearizability/key_search.hpp"

namespace dkv::check {

// Why an assignment failed, where it can tell.
struct assignment_failure {
  // The needed writes alone do not fit: the keys of those that compete for
  // too few gaps (the needs the failed augmenting search reached). Searched
  // as one group, they may choose other writes or gaps.
  std::vector<std::size_t> contended;
  // A gap no write may take: the needed writes (history ids) invoked early
  // enough for it, latest placed first. A key search picks the earliest
  // invoked write that serves, though a later one might serve as well, and
  // only writes invoked early may take an early gap.
  std::vector<std::size_t> blocking;
};

// `placed`: each key's placements from its search, replaced by the full
// assignment on success. `info_writes`: history ids by call time.
// `may_act_after`: per key, for a placed write, the index after which it
// could equally have acted.
bool assign_gaps(const history& h, const dkv_view& c, const gap_table& gaps, std::vector<placements>& placed,
                 const std::vector<std::size_t>& info_writes,
                 const std::vector<std::map<std::size_t, std::uint64_t>>& may_act_after, assignment_failure& why);

}  // namespace dkv::check
