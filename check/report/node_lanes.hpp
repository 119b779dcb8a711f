#pragma once
// What a history tells of each node over time, for the report's node lanes:
// down (from a crash until its restart), stopped (it stopped itself), paused,
// cut off by a partition and from whom, and its Raft role and term (from the
// history's optional "node" events). Only the history is read, so the lanes
// of a real cluster's run are drawn as a simulated one's.

#include <cstdint>
#include <string>
#include <vector>

#include "check/history/history.hpp"

namespace dkv::check {

// One stretch of a node's lane in which nothing of this changed.
struct node_span {
  std::uint64_t from_ns = 0, to_ns = 0;
  bool down = false;     // crashed (a crash, a lost or cut disk, a restart alone) and not restarted
  bool stopped = false;  // it stopped itself (a "stopped" node event) and was not restarted
  bool paused = false;
  std::string role;        // the last "node" event's since it started; empty: unknown
  std::uint64_t term = 0;  // likewise; 0: unknown
  // The partition in force: the nodes it can neither reach nor hear, the
  // ones only its messages to are lost (one way), the ones only whose
  // messages to it are lost.
  std::vector<std::uint32_t> cut_from, cannot_send_to, cannot_hear;

  bool cut() const noexcept { return !cut_from.empty() || !cannot_send_to.empty() || !cannot_hear.empty(); }
  // "leader, term 5; cut from 2,3", "down", "follower, term 2; paused".
  std::string text() const;
  bool same_state(const node_span& other) const;
};

struct node_lane {
  std::uint32_t node = 0;
  std::vector<node_span> spans;  // back to back from start_ns to end_ns
};

// The nodes 1..node_count and any other a fault or node event names, each
// from start_ns to end_ns (events after end_ns are left out). Faults come
// before node events at one time (a restart, then what the new process says).
std::vector<node_lane> node_lanes(const history& h, std::uint64_t start_ns, std::uint64_t end_ns);

}  // namespace dkv::check
