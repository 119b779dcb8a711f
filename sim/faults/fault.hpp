#pragma once
// Faults the simulator injects, and the cluster interface they act on.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/network/partition.hpp"
#include "sim/simulator/node_clock.hpp"

namespace dkv::sim {

enum class fault_kind : std::uint8_t {
  split,    // symmetric partition into groups
  one_way,  // node -> other cut, the reverse still works
  isolate,  // one node cut off from all others
  bridge,   // two sides split, one node still sees both
  heal,     // the network is whole again
  crash,    // volatile state gone; the disk keeps what its rules keep
  restart,
  reboot,  // a crash and, `downtime_ns` later, a restart: one fault, a process bounced
  pause,   // a stalled process: no steps, timers pile up
  resume,
  clock,        // the node's clock jumps to a new skew and drift
  damage_disk,  // a byte of the node's synced storage flips
  lose_disk,    // the node crashes and its disk is replaced: it restarts with nothing
  // Membership changes, asked of the leader (an operator's request, not a
  // failure, but scheduled and shrunk like one): the node joins as a voter
  // once caught up, joins as a learner, or leaves.
  add_server,
  add_learner,
  remove_server,
  cut_log,  // the node crashes and its log loses synced records: more than a crash can cut
  alone,    // the node crashes, its disk is replaced, and it is started with a member list naming only itself
};

// A kind's name in scenario files ("one_way", "damage", "add_server"), and back.
std::string_view kind_name(fault_kind kind) noexcept;
std::optional<fault_kind> kind_named(std::string_view name) noexcept;
bool is_membership_change(fault_kind kind) noexcept;

struct fault {
  fault_kind kind = fault_kind::heal;
  node_id node = 0;   // crash, restart, pause, resume, clock, damage_disk, lose_disk, cut_log, alone, isolate, bridge, one_way (from), membership
  node_id other = 0;  // one_way (to)
  std::vector<std::vector<node_id>> groups;  // split; bridge: the two sides
  node_clock clock;                          // clock
  std::uint64_t downtime_ns = 0;             // reboot

  // One line, as the trace hashes it and a history shows it.
  std::string describe() const;
  // docs/history.md's name for it: "partition", "heal", "crash", "membership", …
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
  // Crashes the node (if up) and empties its disk, as a replaced one.
  virtual void lose_disk(node_id node) = 0;
  // Crashes the node (if up) and cuts its newest log segment short of what
  // was synced, or removes it: what a faulty disk or an operator's hand does.
  virtual void cut_log(node_id node) = 0;
  // Crashes the node (if up) and replaces its disk; from its next start it
  // is given a member list naming only itself (an operator's mistake on a
  // new machine) until restore_members(). Its peers, whose list names it,
  // refuse it as the peer transport refuses another cluster, and tell it so.
  virtual void misconfigure(node_id node) = 0;
  // Asks the leader, if there is one, for a membership change (`change` is
  // one of the three kinds); whether it takes it shows in the configuration.
  virtual void change_membership(fault_kind change, node_id node) = 0;
};

// Applies one fault to the target (a reboot only crashes: whoever schedules
// it applies the restart `downtime_ns` later).
void apply(const fault& f, fault_target& target, const std::vector<node_id>& nodes);

}  // namespace dkv::sim
