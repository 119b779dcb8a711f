// dkv-sim run / replay: one run, its report and verdict; after a failure its
// history and HTML report, and the commands that replay and shrink it.

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/dkv-sim/commands.hpp"

namespace dkv::sim::tool {

namespace {

std::string show(const trace_event& e) {
  std::ostringstream out;
  out << "t=" << e.time_ns << "ns ";
  switch (e.kind) {
    case 'D': out << "delivery " << e.a << "->" << e.b << " bytes#" << std::hex << e.payload; break;
    case 'T': out << "timer of " << e.a << " delay/tag#" << std::hex << e.payload; break;
    default: out << "fault or action #" << std::hex << e.payload; break;
  }
  return out.str();
}

// The two traces of one seed, event by event: the first that differs.
bool same_trace(const run_report& a, const run_report& b, std::ostream& out) {
  const std::size_t common = std::min(a.trace.size(), b.trace.size());
  for (std::size_t i = 0; i < common; ++i)
    if (!(a.trace[i] == b.trace[i]) || a.trace[i].hash != b.trace[i].hash) {
      out << "determinism: FAIL — the runs diverge at event " << i << ": first " << show(a.trace[i]) << ", then "
          << show(b.trace[i]) << "\n";
      return false;
    }
  if (a.trace.size() != b.trace.size() || a.trace_hash != b.trace_hash) {
    out << "determinism: FAIL — one run has " << a.trace.size() << " events, the other " << b.trace.size() << "\n";
    return false;
  }
  out << "determinism: PASS — " << a.trace.size() << " events, the same in both runs (trace hash " << std::hex
      << a.trace_hash << std::dec << ")\n";
  return true;
}

}  // namespace

int run_command(const run_arguments& spec, bool check_determinism) {
  prepared_run run = prepare(spec);
  std::ofstream history_file;
  if (!spec.history_path.empty()) {
    history_file.open(spec.history_path, std::ios::binary | std::ios::trunc);
    if (!history_file) throw usage_error("cannot write " + spec.history_path);
  }
  print_header(run, std::cout);
  std::ostringstream history;
  run.options.history = &history;
  run.options.progress = progress_bar();
  run.options.keep_trace = check_determinism;

  const auto started = std::chrono::steady_clock::now();  // wall time for the summary only; the run never sees it
  const run_report report = run_random(run.options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  clear_progress();
  print_report(report, std::cout);
  std::cout << "wall time " << wall << " s (" << static_cast<double>(report.virtual_ns) / 1e9 / wall
            << "x real time)\n";

  bool deterministic = true;
  if (check_determinism) {
    run_options again = run.options;
    again.history = nullptr;
    again.progress = nullptr;
    deterministic = same_trace(report, run_random(again), std::cout);
  }
  const std::uint64_t seed = run.options.seed;
  if (history_file.is_open() && !(history_file << history.str() && history_file.flush()))
    throw usage_error("writing " + spec.history_path + " failed");
  if (!spec.report_path.empty() &&
      !write_report(history.str(), verdicts_of(report), spec.report_path, run.label + ", seed " + std::to_string(seed)))
    throw usage_error("cannot write the report " + spec.report_path);

  if (const check_result* failed = report.first_failure()) {
    std::cout << "verdict: FAIL (" << failed->name << ")\n";
    write_failure(spec, run.label, seed, history.str(), verdicts_of(report), std::cout);
    std::cout << "replay:  " << command_for("replay", spec, seed) << "\n";
    std::cout << "shrink:  " << command_for("shrink", spec, seed) << "\n";
    return 1;
  }
  std::cout << "verdict: PASS (" << report.checks.size() << " checks)\n";
  return deterministic ? 0 : 1;
}

}  // namespace dkv::sim::tool
