#pragma once
// Turns a failed DKV_ASSERT into the end of a simulated run, not of the
// process: while a trap is alive on a thread, an assertion failing on that
// thread is recorded (the first one: what follows may only be its
// consequence) and thrown as dkv::broken_invariant. Where it fails outside
// an actor, the throw unwinds straight out of the simulator's loop; inside
// one, CAF catches it and ends that actor (raft_node does so quietly), and
// the simulator throws it again after the step (rethrow_if_failed). The run
// (random_run) catches it and reports the failure as its "invariants"
// check, so dkv-sim prints the seed, replay and shrink commands, a swarm
// counts a failed seed, and the shrinker keeps cases that fail it.
//
// On other threads, and with no trap alive, the handler installed before
// the first trap (by default: print and abort) goes on as before.

#include <optional>
#include <string>

#include "store/assert.hpp"

namespace dkv::sim {

class assertion_trap {
 public:
  assertion_trap();
  ~assertion_trap();
  assertion_trap(const assertion_trap&) = delete;
  assertion_trap& operator=(const assertion_trap&) = delete;

  // The first failed assertion's message, if one failed.
  const std::optional<std::string>& failure() const noexcept { return failure_; }
  // Throws it (as dkv::broken_invariant) if one failed.
  void rethrow_if_failed() const;

 private:
  static void handle(const dkv::assertion_failure& failure);

  std::optional<std::string> failure_;
  assertion_trap* outer_;  // the trap it hides on this thread, if any
};

}  // namespace dkv::sim
