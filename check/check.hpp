#pragma once
// The checker for embedding: everything needed to check a recorded history
// from a test or a tool of one's own. Link dkv::check (pure C++, no CAF).
// The history comes from a history_recorder (sim/run/history_recorder.hpp,
// in memory) or from a file in docs/history.md's JSON lines (or a Jepsen
// register or EDN key-value log). The guide is docs/embedding.md.
//
//   const dkv::check::check_report result = dkv::check::check_history(recorder.recorded());
//   REQUIRE(result.ok());   // else result.summary says which key, which operation
//
// The verdict is deterministic: budgets count search steps, not time, and
// the failing part reported is the same on every run (checker.hpp).

#include <string>

#include "check/history/history.hpp"
#include "check/input_file.hpp"
#include "check/history/parse.hpp"
#include "check/linearizability/checker.hpp"

namespace dkv::check {

// Reads a history file and checks it; a file that cannot be read gives
// `unknown`, with why in the summary. So does a directory or an empty or
// blank file (check/input_file.hpp): read as nothing, it would pass as an
// empty history.
inline check_report check_history_file(const std::string& path, const check_options& options = {}) {
  check_report unreadable;
  unreadable.result = verdict::unknown;
  std::string text, why;
  if (!read_input_file(path, text, why)) {
    unreadable.summary = path + ": " + why;
    return unreadable;
  }
  history h;
  parse_error error;
  if (!parse_history(text, h, error)) {
    unreadable.summary = path + ": unreadable (line " + std::to_string(error.line) + ": " + error.reason + ")";
    return unreadable;
  }
  return check_history(h, options);
}

}  // namespace dkv::check
