#pragma once
// Many seeds of some scenarios in parallel processes: the work is the list
// of (scenario, seed) pairs, seeds interleaved across scenarios; worker j of
// J takes every J-th pair, runs it and reports a line through a pipe. The
// parent only reads: it builds no actor system (fork before any threads).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace dkv::sim::tool {

struct swarm_task_result {
  std::size_t scenario = 0;
  std::uint64_t seed = 0;
  bool passed = true;
  std::string check;  // the first failing check
  std::uint64_t operations = 0;
};

struct swarm_plan {
  std::vector<scenario> scenarios;
  std::uint64_t first_seed = 1, seeds = 100;
  unsigned jobs = 1;
  dkv::bugs::bug_set bugs = 0;
  std::string out_dir;  // a failing run's history and report go here (empty: not written)
  // Stop when this says so (after each result): fail-fast, a budget.
  std::function<bool(const swarm_task_result&)> stop_after;
  std::function<void(const swarm_task_result&)> on_result;  // in the parent, as results come
  // How a worker runs one pair (unset: in the simulator, run_random): a
  // real run (--real) gives its own.
  std::function<run_report(const run_options&)> runner;
};

// The runner of `--real` runs: each pair against fresh dkv serve processes
// (the dkv at `dkv_binary`, or beside dkv-sim), every duration times `time_scale`.
std::function<run_report(const run_options&)> real_runner(const std::string& dkv_binary, double time_scale);

struct swarm_totals {
  std::vector<swarm_task_result> results;  // in the order they came
  bool stopped = false;                    // by stop_after, before every pair ran
};

swarm_totals run_swarm(const swarm_plan& plan);

// The options of one pair of the plan: the scenario drawn at the seed, the plan's bugs on.
run_options options_of(const swarm_plan& plan, std::size_t scenario, std::uint64_t seed);

// The scenario files of a folder, by name.
std::vector<std::string> scenario_files(const std::string& folder);

}  // namespace dkv::sim::tool
