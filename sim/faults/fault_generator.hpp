#pragma once
// Random fault schedules from a seed: partitions of every shape, crashes and
// restarts, pauses, clock jumps, disk damage and (when weighted) servers
// removed from the configuration and added back, spread over [start, stop).
// Every fault ends by `stop` — the network healed, crashed nodes restarted,
// paused ones resumed — so a run can check liveness after it. At most
// `max_down` nodes are crashed or paused at once, and the disks of at most
// `max_damaged` distinct nodes are damaged or lost over the run (f of 2f+1:
// the cluster must survive them).

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/faults/fault.hpp"
#include "store/rng.hpp"

namespace dkv::sim {

struct fault_weights {
  unsigned partition = 4;
  unsigned crash = 3;
  unsigned pause = 1;
  unsigned clock = 1;
  unsigned damage = 1;
  unsigned membership = 0;  // a server removed, and added back when the fault ends
  unsigned lose = 0;        // a crash with the disk lost: the node restarts empty
  unsigned cut = 0;         // a crash with the log cut short of what was synced
};

// Which shape a random partition takes, by weight (a bridge needs 3 nodes).
struct partition_shapes {
  unsigned split = 1;
  unsigned one_way = 1;
  unsigned isolate = 1;
  unsigned bridge = 1;
};

struct fault_options {
  std::uint64_t start_ns = 1'000'000'000;
  std::uint64_t stop_ns = 60'000'000'000;
  std::uint64_t mean_gap_ns = 3'000'000'000;  // between the onsets of two faults
  std::uint64_t min_duration_ns = 200'000'000;
  std::uint64_t max_duration_ns = 8'000'000'000;
  std::size_t max_down = 1;
  std::size_t max_damaged = 1;
  fault_weights weights;
  partition_shapes shapes;
  std::int64_t max_skew_ns = 100'000'000;  // a clock jump's skew is drawn from ±this
  std::int32_t max_drift_ppm = 2000;       // and its drift from ±this
  // Striking at a protocol step rather than at a random time: the chance
  // that a node which grants its vote in an election crashes right after
  // the grant leaves it (within crash_after_vote_within, while its disk may
  // still be syncing), to restart within crash_after_vote_downtime — soon
  // enough to be asked again in the same election. Only while every node is
  // up. The run schedules these as it goes (random_run.cpp).
  double crash_after_vote = 0;
  std::uint64_t crash_after_vote_within_ns = 1'000'000;
  std::uint64_t crash_after_vote_downtime_ns = 100'000'000;
  // At another step: a node that has just won an election (its first
  // append or heartbeat of the term leaves it). With isolate_after_winning
  // it is cut off from every other node at once, so none of its term's
  // entries arrive anywhere, and let back within
  // isolate_after_winning_downtime after another node has started to lead.
  // Else, with crash_after_winning, it crashes within
  // crash_after_winning_within (its no-op spread to some, or not yet durable
  // on its own disk) and restarts within crash_after_winning_downtime,
  // whatever else is down. Leaders that fall one after another, each
  // leaving an entry of its term on a few nodes, are how an entry of an old
  // term held by a majority can still be overwritten (the Raft paper's
  // Figure 8).
  double isolate_after_winning = 0;
  std::uint64_t isolate_after_winning_downtime_ns = 100'000'000;
  double crash_after_winning = 0;
  std::uint64_t crash_after_winning_within_ns = 10'000'000;
  std::uint64_t crash_after_winning_downtime_ns = 100'000'000;
  // Which of the faults struck at a step (the crashes above, the cuts and
  // the heals that let the cut back) strike, by their order in the run, 0
  // the first: all when unset; else those listed (ascending) and none past
  // them. Every draw is made either way, so the faults before one left out
  // are the same; the shrinker uses it to drop a fault from a chain and
  // let the rest strike at the steps the run then takes.
  std::optional<std::vector<std::size_t>> only_step_faults;

  // Does the plan strike faults at protocol steps at all?
  bool strikes_at_steps() const noexcept {
    return crash_after_vote > 0 || isolate_after_winning > 0 || crash_after_winning > 0;
  }
};

// A schedule in time order (stable: simultaneous faults keep their order).
std::vector<timed_fault> generate_faults(dkv::rng& random, const std::vector<node_id>& nodes,
                                         const fault_options& options);

}  // namespace dkv::sim
