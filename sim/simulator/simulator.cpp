#include "sim/simulator/simulator.hpp"

#include <algorithm>

#include <caf/atom.hpp>
#include <caf/detail/test_actor_clock.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

namespace dkv::sim {

namespace {
constexpr std::uint64_t network_stream = 0x6e6574;     // "net"
constexpr std::uint64_t scheduling_stream = 0x736368;  // "sch"
}  // namespace

simulator::simulator(std::uint64_t seed, const std::function<void(caf::actor_system_config&)>& configure)
    : seed_(seed), master_(seed), scheduling_(derive(scheduling_stream)) {
  config_.set("scheduler.policy", caf::atom("testing"));
  config_.set("logger.verbosity", caf::atom("quiet"));
  if (configure) configure(config_);
  system_ = std::make_unique<caf::actor_system>(config_);
  scheduler_ = &dynamic_cast<caf::scheduler::test_coordinator&>(system_->scheduler());
  network_ = std::make_unique<sim_network>(*system_, derive(network_stream), trace_);
}

simulator::~simulator() {
  // Stop every actor, let them process their exits, drop pending timers:
  // only then can the actor system shut down without waiting forever.
  for (const auto& actor : spawned_) caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  spawned_.clear();
  scheduler_->run();
  scheduler_->clock().cancel_all();
  network_.reset();
}

std::uint64_t simulator::now_ns() const {
  return static_cast<std::uint64_t>(scheduler_->clock().now().time_since_epoch().count());
}

std::size_t simulator::pending_timers() const { return scheduler_->clock().schedule().size(); }

dkv::rng simulator::derive(std::uint64_t stream) const noexcept {
  dkv::rng copy = master_;
  return copy.derive(stream);
}

void simulator::at(std::uint64_t t_ns, std::string description, std::function<void()> action) {
  actions_.emplace(t_ns, scheduled_action{std::move(description), std::move(action)});
}

namespace {
caf::resumable* job_of(const caf::actor& actor) {
  return dynamic_cast<caf::resumable*>(caf::actor_cast<caf::abstract_actor*>(actor));
}
}  // namespace

void simulator::pause(const caf::actor& actor) {
  if (caf::resumable* job = job_of(actor); std::find(paused_.begin(), paused_.end(), job) == paused_.end())
    paused_.push_back(job);
}

void simulator::resume(const caf::actor& actor) { std::erase(paused_, job_of(actor)); }

bool simulator::run_one_job() {
  auto& jobs = scheduler_->jobs;
  // The seeded choice of who runs next, among the jobs not paused: rotate it to the front.
  std::size_t runnable = jobs.size();
  if (!paused_.empty())
    runnable = static_cast<std::size_t>(std::count_if(jobs.begin(), jobs.end(), [&](caf::resumable* job) {
      return std::find(paused_.begin(), paused_.end(), job) == paused_.end();
    }));
  if (runnable == 0) return false;
  std::size_t pick = runnable > 1 ? scheduling_.below(runnable) : 0;
  auto chosen = jobs.begin();
  for (;; ++chosen) {
    if (!paused_.empty() && std::find(paused_.begin(), paused_.end(), *chosen) != paused_.end()) continue;
    if (pick-- == 0) break;
  }
  std::rotate(jobs.begin(), chosen, chosen + 1);
  scheduler_->run_once();
  trap_.rethrow_if_failed();  // CAF caught it and ended the actor; the run ends too
  if (step_observer_) step_observer_();
  if (++steps_ == step_limit_) {
    out_of_steps_at_ns_ = now_ns();
    network_->go_dark();
  }
  return true;
}

void simulator::move_clock_to(std::uint64_t t_ns) {
  if (t_ns > now_ns()) scheduler_->clock().current_time = caf::actor_clock::time_point{std::chrono::nanoseconds(t_ns)};
}

bool simulator::advance(std::uint64_t limit_ns) {
  auto& clock = scheduler_->clock();
  const bool has_timer = clock.has_pending_timeout();
  const std::uint64_t timer_ns =
      has_timer ? static_cast<std::uint64_t>(clock.schedule().begin()->first.time_since_epoch().count()) : 0;
  const bool has_action = !actions_.empty();
  const std::uint64_t action_ns = has_action ? actions_.begin()->first : 0;
  const bool has_arrival = network_->has_arrivals();
  const std::uint64_t arrival_ns = has_arrival ? network_->next_arrival_ns() : 0;

  // At equal times: scheduled actions, then arrivals, then timers.
  if (has_action && action_ns <= limit_ns && (!has_arrival || action_ns <= arrival_ns) &&
      (!has_timer || action_ns <= timer_ns)) {
    move_clock_to(action_ns);
    auto node = actions_.extract(actions_.begin());
    trace_.fault(now_ns(), node.mapped().description);
    node.mapped().action();
    return true;
  }
  if (has_arrival && arrival_ns <= limit_ns && (!has_timer || arrival_ns <= timer_ns)) {
    move_clock_to(arrival_ns);
    network_->deliver_due(now_ns());
    return true;
  }
  if (has_timer && timer_ns <= limit_ns) {
    scheduler_->trigger_timeout();
    ++timers_fired_;
    return true;
  }
  return false;
}

void simulator::run_until(std::uint64_t t_ns) {
  run_until([] { return false; }, t_ns);
}

bool simulator::run_until(const std::function<bool()>& done, std::uint64_t deadline_ns) {
  trap_.rethrow_if_failed();  // a run stopped by a failed assertion stays stopped
  for (;;) {
    while (run_one_job())
      if (done()) return true;
    if (done()) return true;
    if (!advance(deadline_ns)) break;
  }
  move_clock_to(deadline_ns);
  return done();
}

}  // namespace dkv::sim
