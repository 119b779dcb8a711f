#pragma once
// P-compositionality: a history whose operations on one key never affect
// another splits into parts checked independently — and in parallel, which
// needs care to keep the verdict deterministic.
//
// Proving a part not linearizable means exhausting its search, which can take
// far longer for one part than for another. So parts are checked in rounds
// of growing step budgets (each round four times the last, up to the
// budget's maximum): the first round in which any part fails decides, and the
// lowest failing part of that round is the one reported — the same part on
// every run and machine, since budgets count steps, not time.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/verdict.hpp"

namespace dkv::check {

// Operation ids (positions in history.operations), in call order.
using part = std::vector<std::size_t>;

struct parts {
  std::vector<std::string> names;  // each part's key; empty when unsplit
  std::vector<part> operations;
};

// The operations that may have taken effect (fail ones took none), split by
// key (in key order) or kept whole as one part named "".
parts partition_by_key(const history& h, bool split);

// Runs `count` independent checks on up to `threads` threads (0: one per
// core) in rounds of growing budgets; returns their results by position.
// Within a round, once part k fails, parts after k are abandoned.
std::vector<partition_result> check_parts(
    std::size_t count, unsigned threads, const std::function<partition_result(std::size_t, const check_budget&)>& check,
    const check_budget& budget);

}  // namespace dkv::check
