// dkv-sim: runs dstore's actors in the deterministic simulator.
//
//   dkv-sim run [SCENARIO] [--seed N] [--bug NAME]… [--history FILE] [--report FILE] [--out DIR] [flags]
//               [--real [--time-scale F] [--dkv PATH] [--keep]]
//   dkv-sim replay [SCENARIO] --seed N [--bug NAME]… [--check-determinism] [flags]
//   dkv-sim swarm [SCENARIO…] [--seeds N] [--first-seed S] [--jobs J] [--fail-fast] [--budget 10m] [--bug NAME]…
//   dkv-sim shrink [SCENARIO] --seed N [--bug NAME]… [--budget 60s] [--output FILE]
//   dkv-sim bugs [--budget 60s] [--jobs J] [--bug NAME]… [--scenario FILE]… [--list]
//
// A run is a scenario file (scenarios/README.md) at a seed, or without one
// the random run of the flags (--time, --nodes, --clients, --drop, …), which
// also override a scenario's settings. Exit code: 0 when every check passes,
// 1 when one fails, 2 on bad usage or a bad scenario file (nothing runs).

#include <CLI/CLI.hpp>

#include <iostream>

#include "sim/scenario/duration.hpp"
#include "tools/dkv-sim/commands.hpp"

namespace {

using namespace dkv::sim::tool;

// "60s" and friends, as seconds.
CLI::Validator duration_check() {
  return CLI::Validator(
      [](const std::string& t) { return dkv::sim::parse_duration(t) ? std::string() : "not a duration: " + t; },
      "DURATION");
}

double seconds_of(const std::string& text) { return static_cast<double>(*dkv::sim::parse_duration(text)) / 1e9; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dkv-sim: dstore's actors in the deterministic simulator"};
  app.require_subcommand(1);

  run_arguments run;
  CLI::App* run_cmd = app.add_subcommand("run", "One simulated run of a scenario (or of the flags), then the checks");
  add_spec_options(*run_cmd, run, false);
  add_real_options(*run_cmd, run);

  run_arguments replay;
  bool check_determinism = false;
  CLI::App* replay_cmd = app.add_subcommand("replay", "Run a failure again exactly, from its scenario, seed and bugs");
  add_spec_options(*replay_cmd, replay, false);
  replay_cmd->add_flag("--check-determinism", check_determinism,
                       "Run it twice and compare the traces event by event, naming the first divergent event");

  swarm_arguments swarm;
  CLI::App* swarm_cmd = app.add_subcommand("swarm", "Many seeds of some scenarios in parallel processes");
  swarm_cmd->add_option("scenarios", swarm.scenarios, "Scenario files (default: every file in ./scenarios)");
  swarm_cmd->add_option("--seeds", swarm.seeds, "Seeds per scenario (default 100)")->check(CLI::Range(1, 100'000'000));
  swarm_cmd->add_option("--first-seed", swarm.first_seed, "The first seed (default 1)");
  swarm_cmd->add_option("--jobs", swarm.jobs, "Processes (default: one per core)")->check(CLI::Range(1, 256));
  swarm_cmd->add_flag("--fail-fast", swarm.fail_fast, "Stop at the first failure");
  std::string swarm_budget;
  swarm_cmd->add_option("--budget", swarm_budget, "Stop after this much wall time (default: when every seed ran)")
      ->check(duration_check());
  swarm_cmd->add_option("--out", swarm.out_dir, "Where failing runs write their history and report");
  add_bug_option(*swarm_cmd, swarm.bugs);
  add_real_flags(*swarm_cmd, swarm.real, swarm.time_scale, swarm.dkv_binary);

  run_arguments shrink;
  std::string shrink_budget = "60s", shrink_output;
  CLI::App* shrink_cmd =
      app.add_subcommand("shrink", "Reduce a failing run to the fewest calls and faults that still fail");
  add_spec_options(*shrink_cmd, shrink, false);
  shrink_cmd->add_option("--budget", shrink_budget, "Wall time to spend (default 60s)")->check(duration_check());
  shrink_cmd->add_option("--output", shrink_output, "Write the reduced scenario to FILE (default: print it)");

  bugs_arguments bugs;
  std::string bugs_budget = "60s", bugs_shrink_budget = "60s";
  CLI::App* bugs_cmd = app.add_subcommand("bugs", "The default swarm against each injected bug: caught or not");
  bugs_cmd->add_option("--budget", bugs_budget, "Wall time per bug to the first failure (default 60s)")
      ->check(duration_check());
  bugs_cmd
      ->add_option("--shrink-budget", bugs_shrink_budget,
                   "Wall time to shrink each caught bug (default 60s, as shrink)")
      ->check(duration_check());
  bugs_cmd->add_option("--jobs", bugs.jobs, "Processes (default: one per core)")->check(CLI::Range(1, 256));
  bugs_cmd->add_option("--first-seed", bugs.first_seed, "The first seed (default 1)");
  bugs_cmd->add_option("--scenario", bugs.scenarios,
                       "The swarm's scenario files (default scenarios/swarm.toml, follower-isolated.toml, "
                       "elections.toml, figure8.toml, lost-disk.toml and wrong-members.toml)");
  add_bug_option(*bugs_cmd, bugs.only);
  add_real_flags(*bugs_cmd, bugs.real, bugs.time_scale, bugs.dkv_binary);
  bugs_cmd->add_flag("--list", bugs.list, "List the catalogue: each bug's name, what it does and where it lives");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (run_cmd->parsed()) return run.real ? real_command(run) : run_command(run, false);
    if (replay_cmd->parsed()) return run_command(replay, check_determinism);
    if (swarm_cmd->parsed()) {
      if (!swarm_budget.empty()) swarm.budget_s = seconds_of(swarm_budget);
      return swarm_command(swarm);
    }
    if (shrink_cmd->parsed()) return shrink_command(shrink, seconds_of(shrink_budget), shrink_output);
    bugs.budget_s = seconds_of(bugs_budget);
    bugs.shrink_budget_s = seconds_of(bugs_shrink_budget);
    bug_set_of(bugs.only);  // unknown names are a usage error
    return bugs_command(bugs);
  } catch (const usage_error& e) {
    std::cerr << "dkv-sim: " << e.what() << "\n";
  } catch (const dkv::sim::scenario_error& e) {
    std::cerr << "dkv-sim: " << e.what() << "\n";
  }
  return 2;
}
