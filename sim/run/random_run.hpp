#pragma once
// One simulated run from one seed, as dkv-sim runs it and the property tests
// and the benchmark reuse it: a cluster, a random workload, random faults
// (the network's drops, duplicates and delays, partitions, crashes, pauses,
// clock jumps, disk damage, fsync failures), then the end-of-run checks:
//
//   1. faults stop at `time_ns`: everything is healed and any stopped node
//      restarted; the workload goes on for `settle_ns` more;
//   2. liveness — a leader and a successful write within 10 × the maximum
//      election timeout, and from then on every workload operation succeeds;
//   3. the cluster quiesces; agreement, convergence, linearizability.
//
// Everything random comes from the seed: the same seed, the same trace hash.

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "sim/faults/fault_generator.hpp"
#include "sim/history/history_recorder.hpp"
#include "sim/run/end_of_run_checks.hpp"
#include "sim/run/workload.hpp"

namespace dkv::sim {

inline workload_options impatient_clients() {
  workload_options w;
  w.client.call_timeout_ns = 2'000'000'000;
  return w;
}

struct run_options {
  std::uint64_t seed = 1;
  std::uint64_t time_ns = 60'000'000'000;
  std::uint64_t settle_ns = 5'000'000'000;
  std::size_t nodes = 3;
  // Clients give up after 2 s, so that runs see Timeout and Unavailable outcomes too.
  workload_options workload = impatient_clients();  // its stop_ns is time_ns + settle_ns
  bool faults = true;         // the random fault schedule, the disk's faults and the network's drops
  link_faults network{.min_latency_ns = 100'000, .max_latency_ns = 5'000'000, .drop = 0.01, .duplicate = 0.005};
  // Every node's fsync fails with this probability (the node stops; a supervisor restarts it).
  double sync_failure = 1e-5;
  double read_corruption = 1e-4;
  // Small values make the rare paths common: session eviction (and writes
  // sent again in a new session), full queues answering Unavailable.
  std::size_t max_sessions = 4096;
  std::size_t max_pending = 1024;
  bool check = true;               // record the history and run the end-of-run checks
  std::ostream* history = nullptr;  // also write it here (HISTORY.md)
  // A deliberately broken node (tests prove the checks catch it): it
  // acknowledges log entries it has not synced.
  bool broken_skip_sync = false;
};

struct run_report {
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;        // trace events: deliveries, timers, faults
  std::uint64_t virtual_ns = 0;    // simulated time at the end
  std::uint64_t operations = 0;    // client operations answered
  std::map<std::string, std::size_t> outcomes;  // ok / fail / info
  std::map<std::string, std::size_t> faults;    // by HISTORY.md's name
  disk_stats disks;                             // summed over the nodes' simulated disks
  std::vector<check_result> checks;
  bool passed() const;
};

run_report run_random(const run_options& options);

// The report as dkv-sim prints it.
void print_report(const run_report& report, std::ostream& out);

}  // namespace dkv::sim
