#pragma once
// One simulated run from one seed, as dkv-sim runs it and the property tests
// and the benchmark reuse it: a cluster, a random workload, random faults
// (the network's drops, duplicates and delays, partitions, crashes, pauses,
// clock jumps, disk damage, fsync failures), then the end-of-run checks:
//
//   1. faults stop at `time_ns`: everything is healed and any stopped node
//      restarted; the workload goes on for `settle_ns` more;
//   2. liveness — a leader and a successful write within 10 rounds of what
//      a write after healing may wait for (an election timeout, a disk sync
//      and a network round trip, each at its maximum), and from then on
//      every workload operation succeeds;
//   3. the cluster quiesces; agreement, convergence, linearizability,
//      elections and storage (and, when asked, a stable leader);
//   4. with the checks, always, and first when it fails: the simulation
//      stayed within its budget of steps (`max_steps`); past it the
//      network went dark (a message storm or a loop) and the run ends soon;
//   5. at any moment: a failed DKV_ASSERT (store/assert.hpp) ends the run
//      there, its only check "invariants" failed with the assertion's
//      file, line, condition and values (with check or without).
//
// Everything random comes from the seed: the same seed, the same trace hash.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/faults/fault_generator.hpp"
#include "sim/run/history_recorder.hpp"
#include "sim/run/end_of_run_checks.hpp"
#include "sim/run/workload.hpp"
#include "store/bugs.hpp"

namespace dkv::sim {

// Streams of the master seed that a real run (real/) draws from as the simulated one does.
constexpr std::uint64_t fault_stream = 0x6661756c74;   // "fault"
constexpr std::uint64_t workload_stream = 0x776f726b;  // "work"
// Process ids of the liveness probes, apart from the workload's (docs/history.md).
constexpr std::uint32_t first_probe_process = 1'000'000;

inline workload_options impatient_clients() {
  workload_options w;
  w.client.call_timeout_ns = 2'000'000'000;
  return w;
}

// Which node a planned fault acts on: the one it names, or the node that
// has a role when the fault applies.
enum class node_role : std::uint8_t { given, leader, follower };

// A fault of a fixed schedule (a scenario's `[[faults.at]]`).
struct planned_fault {
  std::uint64_t time_ns = 0;
  fault what;
  node_role role = node_role::given;  // resolves `what.node`
  // A split by role: the role's node and `side - 1` others (lowest ids
  // first) against the rest.
  std::size_t side = 0;
};

struct check_selection {
  bool liveness = true;
  bool agreement = true;
  bool convergence = true;
  bool linearizability = true;
  bool elections = true;
  bool storage = true;
  bool membership = true;  // with membership changes in the schedule
  // For scenarios whose faults must not depose a leader (a follower cut off
  // and back): one leader, elected once, for the whole run.
  bool stable_leader = false;
};

struct run_options {
  std::uint64_t seed = 1;
  std::uint64_t time_ns = 60'000'000'000;
  std::uint64_t settle_ns = 5'000'000'000;
  std::size_t nodes = 3;
  std::size_t founders = 0;  // the first voters, nodes 1..founders (0: all); the rest wait to be added
  // Raft timings, snapshots, and the limits whose small values make the
  // rare paths common: session eviction (writes sent again in a new
  // session), full queues answering Unavailable.
  actors::raft_node_config node;
  // Clients give up after 2 s, so that runs see Timeout and Unavailable outcomes too.
  workload_options workload = impatient_clients();  // its stop_ns is time_ns + settle_ns
  bool faults = true;                   // faults at all: the schedules, the disk's faults and the network's drops
  bool random_faults = true;            // the generator's schedule, drawn from `random_plan`
  fault_options random_plan;            // its start, stop and bounds come from the run
  std::vector<planned_fault> schedule;  // and / or these, at their times
  link_faults network{.min_latency_ns = 100'000, .max_latency_ns = 5'000'000, .drop = 0.01, .duplicate = 0.005};
  // The disks' latencies and faults (with `faults`): a failed fsync stops the
  // node (a supervisor restarts it a second later); a read may come back corrupted.
  disk_faults disk{.sync_failure = 1e-5, .read_corruption = 1e-4};
  check_selection checks;
  dkv::bugs::bug_set bugs = 0;  // injected bugs switched on for the run
  // The simulation's budget of steps (actors run): past it the network goes
  // dark and the run fails its `work` check. 0: 200,000 per simulated
  // second of faults and settling, at least 20 M — far over what the
  // busiest scenario takes (300 k for 30 s), quiescing and the last calls'
  // wait included.
  std::uint64_t max_steps = 0;
  bool record_script = false;  // report what was issued and injected (shrinking starts there)
  bool keep_trace = false;     // report every trace event (a determinism check compares them)
  // Called about every simulated second with the virtual time and the run's
  // planned end (a progress bar). It does not change the run.
  std::function<void(std::uint64_t now_ns, std::uint64_t end_ns)> progress;
  bool check = true;                // record the history and run the end-of-run checks
  std::ostream* history = nullptr;  // also write it here (docs/history.md)
};

struct run_report {
  std::uint64_t trace_hash = 0;
  std::uint64_t events = 0;                     // trace events: deliveries, timers, faults
  std::uint64_t virtual_ns = 0;                 // simulated time at the end
  std::uint64_t operations = 0;                 // client operations answered
  std::map<std::string, std::size_t> outcomes;  // ok / fail / info
  std::map<std::string, std::size_t> faults;    // by docs/history.md's name
  disk_stats disks;                             // summed over the nodes' simulated disks
  std::vector<check_result> checks;
  // With record_script: the calls issued and the faults scheduled, as a
  // fixed run (no random faults, this script) that does the same as this one.
  std::vector<scripted_call> script;
  std::vector<planned_fault> schedule;
  std::size_t step_faults = 0;     // faults the random plan struck at a step, left out or not
  std::vector<trace_event> trace;  // with keep_trace
  bool passed() const;
  const check_result* first_failure() const;
};

run_report run_random(const run_options& options);

// The run that `report` (made with record_script) recorded, as fixed
// options: its script, its schedule, no random faults. It runs the same.
run_options fixed_run(run_options options, const run_report& report);

// A planned fault as it applies now: the node its role names and, for a
// split by role, its groups. Roles are among `members` (the configuration's):
// a follower is the lowest-numbered member `up` and not `leader`; a side is
// filled with members first; `nodes` is every node.
fault resolve_role(const planned_fault& planned, std::optional<node_id> leader, const std::vector<node_id>& members,
                   const std::vector<node_id>& nodes, const std::function<bool(node_id)>& up);

// How a planned fault goes into the trace hash and the logs.
std::string describe(const planned_fault& f);

// The report as dkv-sim prints it.
void print_report(const run_report& report, std::ostream& out);

}  // namespace dkv::sim
