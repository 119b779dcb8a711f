// raft_node actors under random faults (partitions, crashes, pauses, clock
// jumps, damaged disks, a power failure; 1 % drops and duplicates), with a stream of client
// commands: afterwards every node agrees on what was applied at each index,
// every acknowledged command is there, the cluster converges, and it is live
// again within 10 x the maximum election timeout. The same seed replays the
// same run (trace hash).

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include <map>

#include "actors/messages.hpp"
#include "sim/cluster/sim_cluster.hpp"
#include "sim/faults/fault_generator.hpp"
#include "sim/faults/fault_schedule.hpp"
#include "store/replicated/log_command.hpp"

using namespace dkv;
using actors::command_outcome;
using actors::propose_command;

namespace {

constexpr sim::node_id client = 1001;
constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t faults_stop = 15'000 * ms;

caf::behavior outcome_recorder(caf::event_based_actor*, std::vector<command_outcome>* out) {
  return {[out](const command_outcome& o) { out->push_back(o); }};
}

struct fault_run {
  std::uint64_t trace_hash = 0;
  std::size_t acknowledged = 0;
  std::size_t faults = 0;
  std::string problem;  // empty: every check passed
};

sim::fault_options fault_window() {
  sim::fault_options options;
  options.start_ns = 1'000 * ms;
  options.stop_ns = faults_stop;
  return options;
}

fault_run run_with_faults(std::uint64_t seed) {
  sim::sim_cluster_options options;
  options.node.observe_state = true;
  options.node.snapshot_every = 40;  // snapshots, compaction and installs happen
  sim::sim_cluster cluster(seed, options);
  sim::simulator& sim = cluster.sim();
  sim.network().set_faults({.min_latency_ns = 100'000, .max_latency_ns = 3 * ms, .drop = 0.01, .duplicate = 0.01});
  std::vector<command_outcome> outcomes;
  sim.network().attach(client, sim.spawn(outcome_recorder, &outcomes));

  const std::vector<sim::node_id> nodes{1, 2, 3};
  dkv::rng fault_random = sim.derive(0xfa017);
  const auto faults = sim::generate_faults(fault_random, nodes, fault_window());
  sim::schedule_faults(sim, cluster, nodes, faults);
  // And a power failure: every node down at once, so only what reached the
  // disks survives (the generator keeps at most one node down).
  sim.at(8'000 * ms, "power failure", [&] {
    for (sim::node_id id : nodes) cluster.crash(id);
  });
  sim.at(8'300 * ms, "power back", [&] {
    for (sim::node_id id : nodes) cluster.restart(id);
  });

  // A client writing every 20 ms to the node it believes leads.
  std::string open_session;
  replicated::encode_open_session(open_session);
  std::uint64_t request = 0;
  sim::node_id target = 1;
  std::size_t seen = 0;
  const auto send_one = [&] {
    for (; seen < outcomes.size(); ++seen)
      if (outcomes[seen].leader != 0) target = static_cast<sim::node_id>(outcomes[seen].leader);
    sim.network().route(client, target, caf::make_message(propose_command{client, ++request, open_session}));
    target = target % 3 + 1;  // if no answer says otherwise, try the next
  };
  for (std::uint64_t t = 500 * ms; t < faults_stop; t += 20 * ms) sim.at(t, "client write", send_one);
  sim.run_until(faults_stop);

  fault_run run;
  run.faults = faults.size();
  // Liveness: with faults over, a write succeeds within 10 x the maximum election timeout.
  const std::uint64_t max_election_ns = 2 * options.node.raft.election_ticks * options.node.tick_ns;
  const std::size_t before = outcomes.size();
  const auto succeeded = [&] {
    for (std::size_t i = before; i < outcomes.size(); ++i)
      if (outcomes[i].code == 0) return true;
    return false;
  };
  for (std::uint64_t t = faults_stop; t < faults_stop + 10 * max_election_ns; t += 50 * ms)
    sim.at(t, "liveness write", send_one);
  if (!sim.run_until(succeeded, faults_stop + 10 * max_election_ns))
    run.problem = "liveness: no write succeeded within 10 x the maximum election timeout after the faults";

  // Let everyone catch up, then compare.
  sim.run_until(sim.now_ns() + 3'000 * ms);
  std::map<raft::index_t, std::uint64_t> common;
  for (sim::node_id id : nodes) {
    const auto& status = cluster.status(id);
    if (status.stopped && run.problem.empty())
      run.problem = "node " + std::to_string(id) + " stopped: " + status.stop_reason;
    for (const auto& [index, print] : status.applied_log)
      if (!common.emplace(index, print).second && common[index] != print && run.problem.empty())
        run.problem = "agreement: nodes applied different entries at index " + std::to_string(index);
  }
  const auto& first = cluster.status(1);
  for (sim::node_id id : nodes)
    if ((cluster.status(id).applied != first.applied || cluster.status(id).engine_digest != first.engine_digest) &&
        run.problem.empty())
      run.problem = "convergence: node " + std::to_string(id) + " applied " +
                    std::to_string(cluster.status(id).applied) + ", node 1 " + std::to_string(first.applied);
  std::map<std::uint64_t, std::uint64_t> acked_at;  // log index -> request
  for (const command_outcome& o : outcomes) {
    if (o.code != 0) continue;
    ++run.acknowledged;
    // The network may duplicate an answer; two requests at one index would be a bug.
    const auto [at, fresh] = acked_at.emplace(o.log_index, o.request);
    if (!fresh && at->second != o.request && run.problem.empty())
      run.problem = "two acknowledged commands at index " + std::to_string(o.log_index);
    if (!common.count(o.log_index) && o.log_index > first.applied && run.problem.empty())
      run.problem = "acknowledged command at index " + std::to_string(o.log_index) + " was never applied";
  }
  run.trace_hash = sim.trace().value();
  return run;
}

}  // namespace

TEST_CASE("raft nodes under random faults agree, converge and recover", "[actors][sim][faults]") {
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    const fault_run run = run_with_faults(seed);
    INFO("seed " << seed << ": " << run.faults << " faults, " << run.acknowledged << " commands acknowledged");
    CHECK(run.problem == "");
    CHECK(run.acknowledged > 50);
  }
}

TEST_CASE("a faulty raft cluster run replays exactly from its seed", "[actors][sim][determinism]") {
  const fault_run first = run_with_faults(7);
  CHECK(run_with_faults(7).trace_hash == first.trace_hash);
}
