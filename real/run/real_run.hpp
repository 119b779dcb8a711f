#pragma once
// A scenario's run against real processes (`dkv-sim run --real`): the same
// run options a seed draws for the simulator — cluster, timings, workload,
// random faults and fixed schedule, liveness phase, checks, injected bugs —
// carried out by `dkv serve` processes on loopback (real_cluster.hpp), a
// workload over the network client, and the wall clock. The workload and
// the fault times come from the seed exactly as in the simulator
// (sim/run/workload.hpp draws the calls, sim/faults the schedule); only
// the interleaving is the machine's.
//
//   1. the cluster starts and elects a leader (bounded);
//   2. the workload and the faults run until `time_ns`; every 50 ms each
//      node is asked for its status (role, term, leader, commit, applied):
//      `node = "leader"` faults resolve with it, and the elections check
//      reads it;
//   3. heal: the network whole and calm, paused nodes resumed, stopped
//      ones restarted; a liveness probe, and the workload until its end;
//   4. a final read of every key the workload uses (in the history, so a
//      lost acknowledged write fails linearizability), quiescing;
//   5. the checks the real world can run — liveness, linearizability (with
//      the final reads: no acknowledged write lost), convergence (every
//      node at the same applied index with equal engine and session
//      digests, asked once quiet), elections (one leader per term among
//      the statuses seen), stable leader when asked — and the rest
//      reported skipped, with why;
//   6. every process stopped, the proxy too, also on failure or Ctrl-C.
//
// What a scenario asks that real processes cannot be given (clock jumps,
// membership changes, faults struck at protocol steps, the simulated
// disks' fault rates) is counted in the report, never dropped silently.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <string>

#include "sim/run/random_run.hpp"

namespace dkv::real {

struct real_options {
  std::string dkv_binary;     // the dkv that serves
  std::filesystem::path dir;  // the nodes' data directories and logs
  double time_scale = 1;      // every duration of the run multiplied by this (stretched())
  std::uint64_t shard = 200;  // the dstore shard the cluster serves
  // dkv-lazyfs, to put each node's data on a lazy file system (crashes lose
  // what was not fsynced); empty: crashes keep the page cache (reported).
  std::string lazyfs;
  std::function<void(const std::string&)> say;     // progress lines, if set
  const std::atomic<bool>* interrupted = nullptr;  // set (by Ctrl-C): the run ends at once, processes stopped
};

struct real_report {
  sim::run_report run;  // operations, outcomes, faults, checks (no trace: the interleaving is the machine's)
  std::uint64_t wall_ns = 0;
  std::map<std::string, std::size_t> not_made;  // faults asked for that the real world could not make, by kind
  std::size_t status_polls = 0;                 // status answers seen
  bool interrupted = false;
};

// `options` with every duration multiplied by `factor` (> 0): the run's and
// settling time, Raft's tick, the workload's think time and call deadline,
// the network's latencies, the schedule's times and downtimes, the random
// plan's gaps, durations and downtimes. For timings too tight for real
// processes on a small machine (a 3 ms tick).
sim::run_options stretched(sim::run_options options, double factor);

real_report run_real(const sim::run_options& options, const real_options& real);

// The report as dkv-sim prints it for a real run.
void print_real_report(const real_report& report, std::ostream& out);

}  // namespace dkv::real
