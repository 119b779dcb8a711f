// dkv-sim run --real: the run of a scenario and seed against dkv serve
// processes (real/run), its report and verdict; after a failure its history
// and HTML report, and its calls and faults as a fixed scenario file, which
// is then run in the simulator at once to say whether it fails there too.

#include <algorithm>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "real/run/real_run.hpp"
#include "tools/dkv-sim/commands.hpp"
#include "tools/dkv-sim/swarm.hpp"

namespace dkv::sim::tool {

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted = true; }

// A program next to this dkv-sim (all are built into one bin/ directory).
std::string sibling(const std::string& name) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path() / name).string();
}
std::string sibling_dkv() { return sibling("dkv"); }

// dkv-lazyfs beside dkv-sim, if it was built and FUSE is there to mount it; else "" (said once).
std::string lazy_file_system() {
  const std::string lazyfs = sibling("dkv-lazyfs");
  static bool said = false;
  std::string missing;
  if (::access(lazyfs.c_str(), X_OK) != 0)
    missing = lazyfs + " was not built (no libfuse3)";
  else if (::access("/dev/fuse", R_OK | W_OK) != 0)
    missing = "/dev/fuse is missing";
  else if (::access("/bin/fusermount3", X_OK) != 0)
    missing = "fusermount3 is missing (Debian's fuse3)";
  if (missing.empty()) return lazyfs;
  if (!said) std::cerr << "real: no power loss at crashes: " << missing << "\n";
  said = true;
  return {};
}

std::filesystem::path fresh_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "dkv-real-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw usage_error("cannot make a directory under " + pattern);
  return pattern;
}

// The failing run's calls and faults as a scenario file, and what the simulator says of it.
void try_in_simulator(const run_arguments& spec, const prepared_run& run, const real::real_report& report,
                      std::ostream& out) {
  // The report's times are the run's, stretched by --time-scale: so are the fixed run's settings.
  run_options fixed = fixed_run(real::stretched(run.options, spec.time_scale), report.run);
  const std::string label = run.label + "-real-seed" + std::to_string(run.options.seed);
  std::error_code ec;
  std::filesystem::create_directories(spec.out_dir, ec);
  const std::string path = (std::filesystem::path(spec.out_dir) / (label + ".toml")).string();
  std::ofstream file(path);
  file << to_toml(fixed, "The calls and faults of a failing real run of " + run.label + ", seed " +
                             std::to_string(run.options.seed) + ", as a fixed scenario for the simulator.");
  if (!file.flush()) {
    out << "fixed:   cannot write " << path << "\n";
    return;
  }
  out << "fixed:   " << path << " (its calls and faults; dkv-sim run " << path << ")\n";
  fixed.history = nullptr;
  const run_report simulated = run_random(fixed);
  if (const check_result* failed = simulated.first_failure())
    out << "simulated re-run: FAIL (" << failed->name << ") — reproduced; shrink it: dkv-sim shrink " << path << "\n";
  else
    out << "simulated re-run: PASS — not reproduced in the simulator (only the real interleaving failed)\n";
}

}  // namespace

std::function<run_report(const run_options&)> real_runner(const std::string& dkv_binary, double time_scale) {
  const std::string binary = dkv_binary.empty() ? sibling_dkv() : dkv_binary;
  if (::access(binary.c_str(), X_OK) != 0) throw usage_error("cannot run " + binary + " (--dkv)");
  return [binary, time_scale](const run_options& options) {
    real::real_options real;
    real.dkv_binary = binary;
    real.dir = fresh_directory();
    real.time_scale = time_scale;
    real.lazyfs = lazy_file_system();
    real::real_report report = real::run_real(options, real);
    std::error_code ignored;
    if (report.run.passed()) std::filesystem::remove_all(real.dir, ignored);  // a failure's logs stay
    return std::move(report.run);
  };
}

int real_command(const run_arguments& spec) {
  prepared_run run = prepare(spec);
  run.options.record_script = true;
  print_header(run, std::cout);
  std::ostringstream history;
  run.options.history = &history;

  real::real_options real;
  real.dkv_binary = spec.dkv_binary.empty() ? sibling_dkv() : spec.dkv_binary;
  if (::access(real.dkv_binary.c_str(), X_OK) != 0) throw usage_error("cannot run " + real.dkv_binary + " (--dkv)");
  real.dir = fresh_directory();
  real.time_scale = spec.time_scale;
  real.lazyfs = lazy_file_system();
  real.say = [](const std::string& line) { std::cerr << "real: " << line << "\n"; };
  real.interrupted = &interrupted;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  const real::real_report report = real::run_real(run.options, real);
  real::print_real_report(report, std::cout);
  const std::uint64_t seed = run.options.seed;
  if (!spec.history_path.empty()) {
    std::ofstream file(spec.history_path, std::ios::binary | std::ios::trunc);
    if (!(file << history.str() && file.flush())) throw usage_error("writing " + spec.history_path + " failed");
  }
  if (!spec.report_path.empty() && !write_report(history.str(), verdicts_of(report.run), spec.report_path,
                                                 run.label + " (real), seed " + std::to_string(seed)))
    throw usage_error("cannot write the report " + spec.report_path);

  const check_result* failed = report.run.first_failure();
  if (failed || report.interrupted) {
    std::cout << "verdict: " << (report.interrupted ? "INTERRUPTED" : "FAIL (" + failed->name + ")") << "\n";
    std::cout << "logs:    " << real.dir.string() << " (node-N.log; the data in node-N/, or node-N.disk/data on a lazy disk)\n";
    write_failure(spec, run.label + "-real", seed, history.str(), verdicts_of(report.run), std::cout);
    if (failed) try_in_simulator(spec, run, report, std::cout);
    return 1;
  }
  std::error_code ignored;
  if (!spec.keep) std::filesystem::remove_all(real.dir, ignored);
  const auto skipped = std::count_if(report.run.checks.begin(), report.run.checks.end(),
                                     [](const sim::check_result& c) { return c.skipped; });
  std::cout << "verdict: PASS (" << report.run.checks.size() - skipped << " checks"
            << (skipped ? ", " + std::to_string(skipped) + " skipped" : "") << ")\n";
  return 0;
}

}  // namespace dkv::sim::tool
