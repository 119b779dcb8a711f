#include "sim/cluster/sim_client.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

namespace dkv::sim {

namespace {

using waiting_calls = std::map<std::uint64_t, sim_client::callback>;

// Asks the client for each (tag, call) it is sent and runs the tag's
// callback with the answer.
caf::behavior caller(caf::event_based_actor* self, caf::actor client, std::shared_ptr<waiting_calls> waiting) {
  return {[=](std::uint64_t tag, actors::store_call& call) {
    const auto done = [waiting, tag](actors::store_answer answer) {
      const auto it = waiting->find(tag);
      if (it == waiting->end()) return;
      const sim_client::callback cb = std::move(it->second);
      waiting->erase(it);
      cb(answer);
    };
    self->request(client, caf::infinite, std::move(call))
        .then([done](actors::store_answer& answer) { done(std::move(answer)); },
              [done](caf::error&) {
                actors::store_answer lost;
                lost.code = static_cast<std::uint8_t>(error_code::timeout);
                lost.message = "the client actor is gone";
                done(std::move(lost));
              });
  }};
}

}  // namespace

sim_client::sim_client(sim_cluster& cluster, actors::client_config config)
    : cluster_(cluster), config_(config), waiting_(std::make_shared<waiting_calls>()) {
  client_ = cluster_.add_client(config);
  caller_ = cluster_.sim().spawn(caller, client_, waiting_);
}

std::uint64_t sim_client::submit(actors::store_call call, callback done) {
  const std::uint64_t tag = next_tag_++;
  (*waiting_)[tag] = std::move(done);
  caf::anon_send(caller_, tag, std::move(call));
  return tag;
}

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
