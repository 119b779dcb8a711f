#pragma once
// What names one simulated run on dkv-sim's command line — a scenario file
// (or none: the random run of the flags), a seed, injected bugs, and flags
// that override the scenario's settings — and what every command does with
// it: build the run's options, say what it runs, and after a failure write
// the history and HTML report and print how to replay and shrink it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "check/report/html_report.hpp"
#include "sim/run/random_run.hpp"
#include "sim/scenario/scenario.hpp"

// Declared only: CLI11 is header-only and costs every file that includes it
// about 12 s to compile (five times that under the sanitizers), so only the
// files that define options include it.
namespace CLI {
class App;
}

namespace dkv::sim::tool {

// A usage error: printed, exit code 2, nothing runs.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct run_flags {
  std::optional<std::string> time;
  std::optional<std::size_t> nodes, clients, max_sessions, max_pending;
  std::optional<double> drop, duplicate, sync_failure;
  bool no_faults = false;
};

struct run_arguments {
  std::string scenario_path;  // empty: no scenario file
  std::optional<std::uint64_t> seed;
  std::vector<std::string> bugs;
  run_flags flags;
  std::string out_dir = "dkv-sim-out";  // where a failure's history and report go
  std::string history_path;             // --history: also write the history here
  std::string report_path;              // --report: also write the HTML report here
  // --real: against dkv serve processes (real/), with every duration times time_scale.
  bool real = false;
  double time_scale = 1;
  std::string dkv_binary;  // --dkv: the dkv that serves (default: the one beside dkv-sim)
  bool keep = false;       // --keep: keep a passing real run's data directories and logs
};

// The options `run`, `replay` and `shrink` share.
void add_spec_options(CLI::App& command, run_arguments& spec, bool scenario_required);
// --real, --time-scale, --dkv, --keep.
void add_real_options(CLI::App& command, run_arguments& spec);
// --real, --time-scale, --dkv (swarm, bugs).
void add_real_flags(CLI::App& command, bool& real, double& time_scale, std::string& dkv_binary);
// --bug NAME (repeatable), for swarm and bugs too.
void add_bug_option(CLI::App& command, std::vector<std::string>& bugs);

// A run ready to go. Throws usage_error (bad flag value, unknown bug) or
// scenario_error (a bad file).
struct prepared_run {
  std::optional<scenario> file;
  std::string label;  // the scenario's name, or "random"
  run_options options;
};
prepared_run prepare(const run_arguments& spec);
// The options of seed `seed` of an already loaded scenario, with the spec's bugs and flags.
run_options options_for(const run_arguments& spec, const std::optional<scenario>& file, std::uint64_t seed);
dkv::bugs::bug_set bug_set_of(const std::vector<std::string>& names);

// The command line that runs it again: "dkv-sim VERB FILE --seed N --bug B …".
std::string command_for(const std::string& verb, const run_arguments& spec, std::uint64_t seed);

// One or two lines: the scenario, its intent, the seed, the drawn settings, the shape.
void print_header(const prepared_run& run, std::ostream& out);

// The run's checks as the HTML report takes them.
std::vector<check::check_verdict> verdicts_of(const run_report& report);

// The HTML report of a history's text and the run's checks; false if it does
// not parse or the file cannot be written.
bool write_report(const std::string& history_text, const std::vector<check::check_verdict>& checks,
                  const std::string& path, const std::string& title);

// After a failure: the history (JSON lines) and its HTML report in
// spec.out_dir, named after the scenario and seed; prints where they went.
void write_failure(const run_arguments& spec, const std::string& label, std::uint64_t seed, const std::string& history,
                   const std::vector<check::check_verdict>& checks, std::ostream& out);

// Worker processes: `jobs`, or one per core when 0.
unsigned default_jobs(unsigned jobs);

// The tool's own wall time (for its summaries and budgets; runs never see it).
using wall_clock = std::chrono::steady_clock;
double seconds_since(wall_clock::time_point t);
std::string fmt_seconds(double s);  // "12.3 s"

// A progress bar on standard error when it is a terminal (else nothing).
std::function<void(std::uint64_t, std::uint64_t)> progress_bar();
void clear_progress();

}  // namespace dkv::sim::tool
