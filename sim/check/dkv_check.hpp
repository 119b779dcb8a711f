#pragma once
// The dkv store model's check (SPEC.md, HISTORY.md). The logical clock is
// global, yet every ok result carries the index it was applied at (writes)
// or read at (reads), and that index is a witness of the linearization:
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
//     any) each `info` write of that key took effect.
// Steps 1–3 need no search; step 4 runs per key (P-compositionality).
// A history whose ok results lack indexes is checked as one, by WGL search.

#include "sim/check/checker.hpp"

namespace dkv::sim {

check_report check_dkv_history(const history& h, const check_options& options);

}  // namespace dkv::sim
