#include "sim/cluster/sim_client.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

namespace dkv::sim {

// What the caller actor and sim_client share: the callbacks by tag, and the
// caller itself while it runs one of them.
struct sim_client::caller_state {
  std::map<std::uint64_t, callback> waiting;
  caf::actor client;
  caf::event_based_actor* in_callback = nullptr;

  // Asks the client and runs the tag's callback with the answer.
  void ask(caf::event_based_actor* self, std::uint64_t tag, actors::store_call&& call) {
    const auto done = [this, self, tag](actors::store_answer answer) {
      const auto it = waiting.find(tag);
      if (it == waiting.end()) return;
      const callback cb = std::move(it->second);
      waiting.erase(it);
      in_callback = self;
      cb(answer);
      in_callback = nullptr;
    };
    self->request(client, caf::infinite, std::move(call))
        .then([done](actors::store_answer& answer) { done(std::move(answer)); },
              [done](caf::error&) {
                actors::store_answer lost;
                lost.code = static_cast<std::uint8_t>(error_code::timeout);
                lost.message = "the client actor is gone";
                done(std::move(lost));
              });
  }
};

namespace {

caf::behavior caller(caf::event_based_actor* self, std::shared_ptr<sim_client::caller_state> state) {
  return {[=](std::uint64_t tag, actors::store_call& call) { state->ask(self, tag, std::move(call)); }};
}

}  // namespace

sim_client::sim_client(sim_cluster& cluster, actors::client_config config)
    : cluster_(cluster), config_(config), state_(std::make_shared<caller_state>()) {
  state_->client = cluster_.add_client(config);
  caller_ = cluster_.sim().spawn(caller, state_);
}

sim_client::~sim_client() { state_->waiting.clear(); }

std::uint64_t sim_client::submit(actors::store_call call, callback done) {
  const std::uint64_t tag = next_tag_++;
  state_->waiting[tag] = std::move(done);
  // From inside a callback (a closed loop's next call), the caller asks at
  // once; from outside the simulation, it is sent the call.
  if (state_->in_callback)
    state_->ask(state_->in_callback, tag, std::move(call));
  else
    caf::anon_send(caller_, tag, std::move(call));
  return tag;
}

void sim_client::forget(std::uint64_t tag) { state_->waiting.erase(tag); }

const caf::actor& sim_client::actor() const noexcept { return state_->client; }

actors::store_answer sim_client::call(actors::store_call call) {
  std::optional<actors::store_answer> answer;
  const std::uint64_t tag = submit(std::move(call), [&answer](const actors::store_answer& a) { answer = a; });
  simulator& sim = cluster_.sim();
  // The client answers by its deadline on its own clock; allow for a slow clock.
  const std::uint64_t limit = sim.now_ns() + 2 * config_.call_timeout_ns + 1'000'000'000;
  if (!sim.run_until([&answer] { return answer.has_value(); }, limit)) {
    forget(tag);
    actors::store_answer none;
    none.code = static_cast<std::uint8_t>(error_code::internal_error);
    none.message = "the simulated client gave no answer";
    return none;
  }
  return *answer;
}

std::unique_ptr<actors::dstore> sim_client::store() {
  return std::make_unique<actors::dstore>([this](actors::store_call c) { return call(std::move(c)); }, config_.limits);
}

}  // namespace dkv::sim
