#pragma once
// dkv-sim's commands; each returns the process's exit code: 0 when every
// check passed, 1 when one failed, 2 on bad usage (nothing ran).

#include <cstdint>
#include <string>
#include <vector>

#include "tools/dkv-sim/run_arguments.hpp"

namespace dkv::sim::tool {

// run, and replay (the same run; with check_determinism twice, compared event by event).
int run_command(const run_arguments& spec, bool check_determinism);
// run --real: the same run against dkv serve processes on loopback.
int real_command(const run_arguments& spec);

struct swarm_arguments {
  std::vector<std::string> scenarios;  // empty: every file in scenarios/
  std::uint64_t seeds = 100;           // per scenario
  std::uint64_t first_seed = 1;
  unsigned jobs = 0;  // 0: one per core
  bool fail_fast = false;
  std::vector<std::string> bugs;
  std::string out_dir = "dkv-sim-out";
  double budget_s = 0;  // > 0: stop after this much wall time
  bool real = false;    // --real: against dkv serve processes (one run at a time unless --jobs)
  double time_scale = 1;
  std::string dkv_binary;
};
int swarm_command(const swarm_arguments& spec);

int shrink_command(const run_arguments& spec, double budget_s, const std::string& out_path);

struct bugs_arguments {
  double budget_s = 60;         // per bug, to the first failure
  double shrink_budget_s = 30;  // per caught bug
  unsigned jobs = 0;
  std::uint64_t first_seed = 1;
  std::vector<std::string> scenarios;  // empty: default_swarm()
  std::vector<std::string> only;       // --bug: just these
  bool list = false;
  bool real = false;  // --real, as swarm's
  double time_scale = 1;
  std::string dkv_binary;
};
int bugs_command(const bugs_arguments& spec);

// What `dkv-sim bugs` runs unless told otherwise: scenarios/swarm.toml (every
// fault, everything drawn), scenarios/follower-isolated.toml (a leader that
// no fault may depose), scenarios/elections.toml (crashes right after a
// vote, in elections without pre-vote), scenarios/figure8.toml (leaders
// cut off or crashed as soon as they win), scenarios/lost-disk.toml (a
// member's disk lost while another lags) and scenarios/wrong-members.toml
// (a member started alone in its member list). Not scenarios/limits/: the
// sound code fails some of their seeds, and a bug "caught" there may not be
// the bug's doing.
std::vector<std::string> default_swarm();

}  // namespace dkv::sim::tool
