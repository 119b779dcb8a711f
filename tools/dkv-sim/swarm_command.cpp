// dkv-sim swarm: many seeds of some scenarios in parallel processes, a live
// progress line, a table per scenario and a replay command for each failure.

#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "tools/dkv-sim/commands.hpp"
#include "tools/dkv-sim/swarm.hpp"

namespace dkv::sim::tool {

int swarm_command(const swarm_arguments& spec) {
  std::vector<std::string> files = spec.scenarios.empty() ? scenario_files("scenarios") : spec.scenarios;
  if (files.empty()) throw usage_error("no scenario files given, and none in ./scenarios");
  swarm_plan plan;
  for (const std::string& f : files) plan.scenarios.push_back(load_scenario(f));
  plan.bugs = bug_set_of(spec.bugs);
  plan.first_seed = spec.first_seed;
  plan.seeds = spec.seeds;
  plan.jobs = spec.real && spec.jobs == 0 ? 1 : default_jobs(spec.jobs);
  plan.out_dir = spec.out_dir;
  if (spec.real) plan.runner = real_runner(spec.dkv_binary, spec.time_scale);

  const auto started = wall_clock::now();
  const std::uint64_t total = plan.seeds * plan.scenarios.size();
  std::size_t done = 0, failures = 0;
  const bool live = ::isatty(STDERR_FILENO);
  plan.on_result = [&](const swarm_task_result& r) {
    ++done;
    failures += !r.passed;
    if (live)
      std::fprintf(stderr, "\rswarm: %zu/%llu runs, %.1f runs/s, %zu failed ", done,
                   static_cast<unsigned long long>(total), static_cast<double>(done) / seconds_since(started),
                   failures);
  };
  plan.stop_after = [&](const swarm_task_result& r) {
    return (spec.fail_fast && !r.passed) || (spec.budget_s > 0 && seconds_since(started) > spec.budget_s);
  };
  std::cout << "dkv-sim swarm: " << plan.scenarios.size() << " scenarios x " << plan.seeds << " seeds (from "
            << plan.first_seed << "), " << plan.jobs << " processes" << (spec.real ? ", real" : "");
  for (const auto name : dkv::bugs::names(plan.bugs)) std::cout << ", bug " << name;
  std::cout << "\n" << std::flush;
  const swarm_totals totals = run_swarm(plan);
  const double wall = seconds_since(started);
  if (live) std::fprintf(stderr, "\r%70s\r", "");

  struct row {
    std::size_t runs = 0, failed = 0;
    std::uint64_t operations = 0;
  };
  std::vector<row> rows(plan.scenarios.size());
  for (const swarm_task_result& r : totals.results) {
    rows[r.scenario].runs++;
    rows[r.scenario].failed += !r.passed;
    rows[r.scenario].operations += r.operations;
  }
  std::cout << fmt::format("{:<28} {:>6} {:>7} {:>10}\n", "scenario", "runs", "failed", "ops/run");
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::cout << fmt::format("{:<28} {:>6} {:>7} {:>10}\n", plan.scenarios[i].name, rows[i].runs, rows[i].failed,
                             rows[i].runs ? rows[i].operations / rows[i].runs : 0);
  std::cout << fmt::format("{} runs in {:.1f} s: {:.0f} runs per minute{}\n", totals.results.size(), wall,
                           static_cast<double>(totals.results.size()) * 60 / wall,
                           totals.stopped ? " (stopped early)" : "");
  std::size_t shown = 0;
  for (const swarm_task_result& r : totals.results) {
    if (r.passed) continue;
    if (shown++ == 0) std::cout << "failures (history and report in " << plan.out_dir << "/):\n";
    if (shown > 20) continue;
    run_arguments replay;
    replay.scenario_path = files[r.scenario];
    replay.bugs = spec.bugs;
    // A real run is not replayed: it is run again (its interleaving was the machine's).
    std::string again = command_for(spec.real ? "run" : "replay", replay, r.seed);
    if (spec.real) again += " --real" + (spec.time_scale != 1 ? fmt::format(" --time-scale {}", spec.time_scale) : "");
    std::cout << "  " << plan.scenarios[r.scenario].name << " seed " << r.seed << ": " << r.check << " — " << again
              << "\n";
  }
  if (shown > 20) std::cout << "  … and " << shown - 20 << " more\n";
  const std::size_t passed = totals.results.size() - failures;
  std::cout << passed << " passed, " << failures << " failed\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace dkv::sim::tool
