#pragma once
// Running the linearizability checker on a recorded history, from a test
// or a tool of one's own. Link dkv::check (pure C++, no CAF). The history
// comes from a history_recorder (sim/history/history_recorder.hpp, in
// memory) or from a file in HISTORY.md's JSON lines (or a Jepsen register or
// EDN key-value log). The guide is docs/embedding.md.
//
//   const auto result = dkv::sim::check_linearizability(recorder.recorded());
//   REQUIRE(result.ok());   // else result.summary says which key, which operation
//
// The verdict is deterministic: budgets count search steps, not time, and
// the failing part reported is the same on every run (checker.hpp).

#include <fstream>
#include <sstream>
#include <string>

#include "sim/check/checker.hpp"
#include "sim/history/history.hpp"
#include "sim/history/parse.hpp"

namespace dkv::sim {

struct linearizability_result {
  verdict result = verdict::unknown;
  std::string summary;  // one line: "linearizable: 120 operations, 3 keys", or why not
  check_report report;  // the details (the failing part, its longest linearizable prefix, …)
  bool ok() const noexcept { return result == verdict::linearizable; }
};

// Checks `h` with the model its format calls for (options.model ==
// automatic): dkv's for a recorded history, with the index witness.
inline linearizability_result check_linearizability(const history& h, const check_options& options = {}) {
  linearizability_result out;
  out.report = check_history(h, options);
  out.result = out.report.result;
  const check_report& r = out.report;
  switch (r.result) {
    case verdict::linearizable:
      out.summary = "linearizable: " + std::to_string(h.operations.size()) + " operations, " +
                    std::to_string(r.partitions) + (r.partitions == 1 ? " part" : " parts");
      break;
    case verdict::not_linearizable:
    case verdict::unknown:
      out.summary = r.result == verdict::unknown ? "unknown (the step budget ran out)" : "not linearizable";
      if (!r.part.empty()) out.summary += ", key '" + r.part + "'";
      if (!r.explanation.empty()) out.summary += ": " + r.explanation;
      if (r.stuck && *r.stuck < h.operations.size()) {
        const operation& o = h.operations[*r.stuck];
        out.summary += "; first operation that cannot be placed: #" + std::to_string(*r.stuck) + " " + o.f +
                       " by process " + std::to_string(o.process);
      }
      break;
  }
  return out;
}

// Reads a history file and checks it; an unreadable file gives `unknown`
// with the parse error in the summary.
inline linearizability_result check_linearizability_file(const std::string& path, const check_options& options = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {verdict::unknown, path + ": cannot open", {}};
  std::ostringstream text;
  text << in.rdbuf();
  history h;
  parse_error error;
  if (!parse_history(text.str(), h, error))
    return {verdict::unknown, path + ": unreadable (line " + std::to_string(error.line) + ": " + error.reason + ")", {}};
  return check_linearizability(h, options);
}

}  // namespace dkv::sim
