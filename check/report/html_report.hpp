#pragma once
// A self-contained HTML page of a run (no downloads): every check's verdict
// at the top, the first failing one as the headline; a time axis; a lane per
// client (and per liveness probe) with each operation a bar from call to
// return coloured by outcome (an info bar runs to the end); a lane per node
// (node_lanes.hpp: down, stopped, paused, cut off from whom, role and term);
// the point where a failing check says it failed, marked across the lanes;
// the linearizability checker's failing part outlined with its longest
// linearizable prefix and the operation that cannot be placed; the fault
// list; details on hover; zoom by dragging across the chart (or open it as
// page.html#failure: around the first failure marked).
//
// Its inputs are the history and the verdicts (and the checker's report of
// that history, for the failing part), nothing of the simulator: a simulated
// run (dkv-sim), a real cluster's run and a bare history (dkv-check) make
// the same page. When its script has drawn the page it sets
// data-rendered="<number of bars>" on <body> (a script error leaves it unset).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/checker.hpp"

namespace dkv::check {

// One check of a run, as the runner that judged it says.
struct check_verdict {
  std::string name;
  bool passed = false;
  std::string detail;      // one line: what was checked, or what is wrong
  bool undecided = false;  // not passed, but not failed either (a search out of budget)
  bool skipped = false;    // not run (a real run cannot see what it needs): passed, and `detail` says why
  // Where the failure shows on the history's timeline, when the check can
  // tell: a moment (a deadline, an operation's call) and, if that is an
  // operation's call, its process. A failure without one is in the list only.
  std::optional<std::uint64_t> at_ns = {};
  std::optional<std::uint32_t> process = {};
};

// The linearizability checker's report as a verdict (dkv-check's one check).
check_verdict linearizability_verdict(const history& h, const check_report& report);

// `checks` in the runner's order (the first failing one is the headline);
// `linearizability` is check_history's report of `h`, whose failing part the
// page outlines.
std::string render_html_report(const history& h, const std::vector<check_verdict>& checks,
                               const check_report& linearizability, std::string_view title);

}  // namespace dkv::check
