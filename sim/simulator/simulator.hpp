#pragma once
// The deterministic simulator: one thread, one seed, virtual time.
//
// CAF's test coordinator is the scheduler. A step runs one runnable actor for
// one message; which actor goes next is drawn from the seed, so a seed picks
// one interleaving and replays it exactly. When nothing is runnable, time
// jumps to the next due timer or scheduled action (a fault, a workload
// event). Every RNG of the run is derived from the master seed, and the trace
// hash fingerprints the run (trace_hash.hpp).
//
// A failed DKV_ASSERT in the simulated code ends the run at once: the
// simulator's loop throws dkv::broken_invariant (assertion_trap.hpp), the
// first failure's message, out of run_until and again from every later
// step; the simulator can still be destroyed cleanly.

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/network/sim_network.hpp"
#include "sim/simulator/assertion_trap.hpp"
#include "sim/simulator/trace_hash.hpp"
#include "store/rng.hpp"

namespace dkv::sim {

class simulator {
 public:
  // `configure` registers the run's message types (CAF needs them before the system starts).
  explicit simulator(std::uint64_t seed, const std::function<void(caf::actor_system_config&)>& configure = {});
  ~simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;

  std::uint64_t seed() const noexcept { return seed_; }
  // The first assertion that failed in this simulation, if one did.
  const std::optional<std::string>& failed_assertion() const noexcept { return trap_.failure(); }
  caf::actor_system& system() noexcept { return *system_; }
  sim_network& network() noexcept { return *network_; }
  trace_hash& trace() noexcept { return trace_; }
  std::uint64_t now_ns() const;
  std::uint64_t steps() const noexcept { return steps_; }
  // A budget of steps (jobs run). Past it the network goes dark: what is in
  // flight is lost and nothing more is carried, so a message storm ends;
  // the actors and their timers run on, and calls end by their deadlines.
  void limit_steps(std::uint64_t steps) noexcept { step_limit_ = steps; }
  bool out_of_steps() const noexcept { return out_of_steps_at_ns_.has_value(); }
  std::uint64_t out_of_steps_at_ns() const noexcept { return out_of_steps_at_ns_.value_or(0); }
  std::uint64_t timers_fired() const noexcept { return timers_fired_; }
  std::size_t pending_timers() const;

  // An independent generator for one named part of the run (a node, the workload…).
  dkv::rng derive(std::uint64_t stream) const noexcept;

  // Spawns an actor the simulator stops at shutdown: a function actor, or
  // (spawn<T>) a class-based one.
  template <class... Ts>
  caf::actor spawn(Ts&&... xs) {
    caf::actor handle = system_->spawn(std::forward<Ts>(xs)...);
    spawned_.push_back(handle);
    return handle;
  }
  template <class Actor, class... Ts>
  caf::actor spawn(Ts&&... xs) {
    caf::actor handle = system_->spawn<Actor>(std::forward<Ts>(xs)...);
    spawned_.push_back(handle);
    return handle;
  }

  // A paused actor (a stalled process) keeps its mailbox and timers but is
  // not run until resumed.
  void pause(const caf::actor& actor);
  void resume(const caf::actor& actor);

  // Runs `action` when virtual time reaches `t_ns` (before timers due then);
  // `description` goes into the trace hash.
  void at(std::uint64_t t_ns, std::string description, std::function<void()> action);

  // Called after every step (one actor run for one message), to record what
  // the actors published. It is no event: it must change nothing in the
  // simulation, and nothing of it goes into the trace hash. Empty: none.
  void observe_steps(std::function<void()> observer) { step_observer_ = std::move(observer); }

  // Runs until virtual time `t_ns` (and leaves the clock there).
  void run_until(std::uint64_t t_ns);
  // Runs until `done()` holds (checked after every step) or `deadline_ns`;
  // returns whether `done()` held.
  bool run_until(const std::function<bool()>& done, std::uint64_t deadline_ns);

 private:
  struct scheduled_action {
    std::string description;
    std::function<void()> action;
  };

  bool run_one_job();
  void move_clock_to(std::uint64_t t_ns);  // never backwards
  // Handles the next event (action, arrival, timer) at or before `limit_ns`; false if there is none.
  bool advance(std::uint64_t limit_ns);

  assertion_trap trap_;  // first: it outlives the actor system, whose shutdown may fail an assertion too
  std::uint64_t seed_;
  dkv::rng master_;      // only copied from: derived streams do not depend on call order
  dkv::rng scheduling_;  // picks the next runnable actor
  trace_hash trace_;
  std::multimap<std::uint64_t, scheduled_action> actions_;  // equal times run in insertion order
  std::uint64_t steps_ = 0;
  std::uint64_t step_limit_ = UINT64_MAX;
  std::optional<std::uint64_t> out_of_steps_at_ns_;  // when the budget ran out
  std::uint64_t timers_fired_ = 0;
  std::function<void()> step_observer_;
  caf::actor_system_config config_;
  std::unique_ptr<caf::actor_system> system_;
  caf::scheduler::test_coordinator* scheduler_ = nullptr;
  std::unique_ptr<sim_network> network_;
  std::vector<caf::actor> spawned_;
  std::vector<caf::resumable*> paused_;  // membership only: never iterated for order
};

}  // namespace dkv::sim
