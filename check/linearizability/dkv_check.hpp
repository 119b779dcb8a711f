#pragma once
// The dkv store model's check (docs/spec.md, docs/history.md), called by
// check_history. The logical clock is global, yet every ok result carries
// the index it was applied at (writes) or read at (reads), and that index is
// a witness of the linearization:
//
//  1. write indexes are unique — an index used twice is a duplicated write;
//  2. index order agrees with real time — there are non-decreasing points,
//     one per operation inside its [call, return], in index order (a read
//     at r sits after write r and before write r+1);
//  3. every index below the highest one was used by a write: an index that
//     no ok write holds must be explained by an `info` write (one each, and
//     one invoked early enough) — otherwise a write was lost;
//  4. each ok read equals the state at its index, replaying that key's
//     writes in index order — the only search is where (at which gap, if
//     any) each `info` write of that key took effect (key_search.hpp), and
//     the keys' choices must then fit together (gap_assignment.hpp).
// Steps 1–3 need no search; step 4 runs per key (P-compositionality).
// A history whose ok results lack indexes is checked as one, by WGL search.

#include "check/history/history.hpp"
#include "check/linearizability/checker.hpp"

namespace dkv::check {

// Fills `report` (its model already dkv) with the verdict and its reasons.
void check_dkv_model(const history& h, const check_options& options, check_report& report);

}  // namespace dkv::check
