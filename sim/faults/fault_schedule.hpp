#pragma once
// Puts a fault schedule on the simulator's clock: each fault is applied to
// the cluster when virtual time reaches it, and goes into the trace hash.

#include <functional>
#include <vector>

#include "sim/faults/fault.hpp"
#include "sim/simulator/simulator.hpp"

namespace dkv::sim {

inline void schedule_faults(simulator& sim, fault_target& target, const std::vector<node_id>& nodes,
                            const std::vector<timed_fault>& faults,
                            const std::function<void(std::uint64_t, const fault&)>& on_applied = {}) {
  for (const timed_fault& f : faults)
    sim.at(f.time_ns, f.what.describe(), [&sim, &target, &nodes, f, on_applied] {
      apply(f.what, target, nodes);
      if (on_applied) on_applied(sim.now_ns(), f.what);
      if (f.what.kind != fault_kind::reboot) return;
      fault restart;  // the reboot's second half
      restart.kind = fault_kind::restart;
      restart.node = f.what.node;
      sim.at(sim.now_ns() + f.what.downtime_ns, restart.describe(), [&sim, &target, &nodes, restart, on_applied] {
        apply(restart, target, nodes);
        if (on_applied) on_applied(sim.now_ns(), restart);
      });
    });
}

}  // namespace dkv::sim
