#pragma once
// Faults the simulator injects, and the cluster interface they act on.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/network/partition.hpp"
#include "sim/simulator/node_clock.hpp"

namespace dkv::sim {

enum class fault_kind : std::uint8_t {
  split,        // symmetric partition into groups
  one_way,      // node -> other cut, the reverse still works
  isolate,      // one node cut off from all others
  bridge,       // two sides split, one node still sees both
  heal,         // the network is whole again
  crash,        // volatile state gone; the disk keeps what its rules keep
  restart,
  pause,        // a stalled process: no steps, timers pile up
  resume,
  clock,        // the node's clock jumps to a new skew and drift
  damage_disk,  // a byte of the node's synced storage flips
};

struct fault {
  fault_kind kind = fault_kind::heal;
  node_id node = 0;   // crash, restart, pause, resume, clock, damage_disk, isolate, bridge, one_way (from)
  node_id other = 0;  // one_way (to)
  std::vector<std::vector<node_id>> groups;  // split; bridge: the two sides
  node_clock clock;                          // clock

  // One line, as the trace hashes it and a history shows it.
  std::string describe() const;
  // HISTORY.md's name for it: "partition", "heal", "crash", …
  std::string_view history_name() const noexcept;
};

struct timed_fault {
  std::uint64_t time_ns;
  fault what;
};

// What faults act on: the simulated cluster.
class fault_target {
 public:
  virtual ~fault_target() = default;
  virtual partition& cuts() = 0;
  virtual void crash(node_id node) = 0;
  virtual void restart(node_id node) = 0;
  virtual void pause(node_id node) = 0;
  virtual void resume(node_id node) = 0;
  virtual void set_clock(node_id node, const node_clock& clock) = 0;
  virtual void damage_disk(node_id node) = 0;
};

// Applies one fault to the target.
void apply(const fault& f, fault_target& target, const std::vector<node_id>& nodes);

}  // namespace dkv::sim
