// dkv-sim bugs: the default swarm against each injected bug — caught or
// not, the wall time to the first failure, the check that caught it (one
// of safety, if one failed, as the shrinker keeps), and the size of the
// shrunk case.

#include <fmt/format.h>

#include <iostream>

#include "sim/shrink/shrink.hpp"
#include "tools/dkv-sim/commands.hpp"
#include "tools/dkv-sim/swarm.hpp"

namespace dkv::sim::tool {

std::vector<std::string> default_swarm() {
  return {"scenarios/swarm.toml", "scenarios/follower-isolated.toml", "scenarios/elections.toml",
          "scenarios/figure8.toml", "scenarios/lost-disk.toml", "scenarios/wrong-members.toml"};
}

int bugs_command(const bugs_arguments& spec) {
  if (spec.list) {
    for (const auto& b : dkv::bugs::catalogue())
      std::cout << fmt::format("{:<26} {}\n{:<26} at {}\n", b.name, b.summary, "", b.site);
    return 0;
  }
  const std::vector<std::string> files = spec.scenarios.empty() ? default_swarm() : spec.scenarios;
  std::vector<scenario> scenarios;
  for (const std::string& f : files) scenarios.push_back(load_scenario(f));
  std::vector<dkv::bugs::bug> chosen;
  for (const std::string& name : spec.only) chosen.push_back(*dkv::bugs::find(name));  // checked by the caller
  if (chosen.empty())
    for (const auto& b : dkv::bugs::catalogue()) chosen.push_back(b.id);

  std::cout << "dkv-sim bugs: the swarm of";
  for (const std::string& f : files) std::cout << " " << f;
  std::cout << " against each bug, " << fmt_seconds(spec.budget_s) << " each, "
            << (spec.real && spec.jobs == 0 ? 1 : default_jobs(spec.jobs)) << " processes"
            << (spec.real ? ", real runs (the shrinking in the simulator)" : "") << "\n";
  const auto row = [](auto&&... cells) {
    std::cout << fmt::format("{:<26} {:>6} {:>9} {:>6} {:<30} {:<16} {:>6} {:>6}\n", cells...) << std::flush;
  };
  row("bug", "caught", "wall", "runs", "first failure", "check", "calls", "faults");
  std::size_t caught_count = 0;
  for (const dkv::bugs::bug b : chosen) {
    const auto& info = dkv::bugs::info(b);
    swarm_plan plan;
    plan.scenarios = scenarios;
    plan.bugs = dkv::bugs::bit(b);
    plan.first_seed = spec.first_seed;
    plan.seeds = 1'000'000;
    plan.jobs = spec.real && spec.jobs == 0 ? 1 : default_jobs(spec.jobs);
    if (spec.real) plan.runner = real_runner(spec.dkv_binary, spec.time_scale);
    const auto started = wall_clock::now();
    plan.stop_after = [&](const swarm_task_result& r) { return !r.passed || seconds_since(started) > spec.budget_s; };
    const swarm_totals totals = run_swarm(plan);
    const double wall = seconds_since(started);
    const swarm_task_result* caught = nullptr;
    for (const swarm_task_result& r : totals.results)
      if (!r.passed) {
        caught = &r;
        break;
      }
    if (!caught) {
      row(info.name, "no", fmt_seconds(wall), totals.results.size(), "-", "-", "-", "-");
      continue;
    }
    ++caught_count;
    const std::string where = fmt::format("{} seed {}", scenarios[caught->scenario].name, caught->seed);
    if (spec.real) {  // a real failure need not fail in the simulator: not shrunk here (run --real says)
      row(info.name, "yes", fmt_seconds(wall), totals.results.size(), where, caught->check, "-", "-");
      continue;
    }
    const run_options failing = options_of(plan, caught->scenario, caught->seed);
    const auto shrink_started = wall_clock::now();
    shrink_options so;
    so.out_of_time = [&] { return seconds_since(shrink_started) > spec.shrink_budget_s; };
    const shrink_result shrunk = shrink(failing, so);
    // The check the shrunk case fails: a check of safety, if one failed with the first.
    const std::string check = shrunk.failed ? shrunk.check : caught->check;
    row(info.name, "yes", fmt_seconds(wall), totals.results.size(), where, check,
        shrunk.failed ? std::to_string(shrunk.calls()) : "?", shrunk.failed ? std::to_string(shrunk.faults()) : "?");
  }
  std::cout << caught_count << " of " << chosen.size() << " bugs caught\n";
  return caught_count == chosen.size() ? 0 : 1;
}

}  // namespace dkv::sim::tool
