#pragma once
// The application under test: a counter service that keeps its state in dkv.
//
// Increments arrive over the network (counter::increment) and are answered
// over it (counter::increment_reply). The service handles one at a time.
// Increment number k claims slot k: SetEIfUnset("counter/k"). A claim is
// idempotent — a copy applied late, after the service has moved on, finds
// the slot taken and changes nothing — so the counter never goes back, even
// though the store offers no compare-and-set. The value is the number of
// slots claimed.
//
// Each reply is honest, as dkv's answers are: ok with the new value; failed
// when the store said the claim was certainly not applied (Unavailable);
// unknown when it may have been (Timeout). After an unknown one the service
// tries the same slot again, so an unknown increment counts at most once.

#include <caf/event_based_actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "actors/actors.hpp"
#include "sim/sim.hpp"

namespace counter {

enum class result : std::uint8_t { ok = 0, failed = 1, unknown = 2 };

struct increment {
  std::uint64_t reply_to = 0;  // the sender's network address
  std::uint64_t request = 0;
};

struct increment_reply {
  std::uint64_t request = 0;
  std::uint8_t result = 0;  // counter::result
  std::uint64_t value = 0;  // with ok: the counter after this increment
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, increment& x) {
  return f(caf::meta::type_name("counter::increment"), x.reply_to, x.request);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, increment_reply& x) {
  return f(caf::meta::type_name("counter::increment_reply"), x.request, x.result, x.value);
}

}  // namespace counter

// The application's type IDs, after dkv's.
CAF_BEGIN_TYPE_ID_BLOCK(counter_app, caf::id_block::dkv_actors::end)
CAF_ADD_TYPE_ID(counter_app, (counter::increment))
CAF_ADD_TYPE_ID(counter_app, (counter::increment_reply))
CAF_END_TYPE_ID_BLOCK(counter_app)

namespace counter {

inline std::string slot_key(std::uint64_t k) { return "counter/" + std::to_string(k); }

struct service_state {
  caf::actor store;                                   // a dkv client actor
  std::shared_ptr<dkv::actors::transport> net;        // the service's port on the network
  dkv::sim::store_call_recorder* recorder = nullptr;  // a test's: every store call into the history
  std::uint32_t process = 0;
  std::uint64_t claimed = 0;  // slots 1..claimed are ours
  std::deque<increment> queue;
  bool busy = false;
};

inline void serve_next(caf::event_based_actor* self, const std::shared_ptr<service_state>& st) {
  if (st->queue.empty()) {
    st->busy = false;
    return;
  }
  st->busy = true;
  const dkv::actors::store_call call = dkv::actors::calls::set_e_if_unset(slot_key(st->claimed + 1), "+", 0, 0);
  const std::size_t id = st->recorder ? st->recorder->invoke(st->process, call) : 0;
  self->request(st->store, caf::infinite, call).then([self, st, id](dkv::actors::store_answer& answer) {
    if (st->recorder && st->recorder->complete(id, answer) == dkv::sim::outcome::info)
      st->process = st->recorder->new_process();  // that call may still take effect
    const increment done = st->queue.front();
    st->queue.pop_front();
    increment_reply reply{done.request, 0, 0};
    const auto code = static_cast<dkv::error_code>(answer.code);
    if (code == dkv::error_code::success) {
      ++st->claimed;
      reply.result = static_cast<std::uint8_t>(result::ok);
      reply.value = st->claimed;
    } else if (code == dkv::error_code::unavailable) {
      reply.result = static_cast<std::uint8_t>(result::failed);
    } else {
      reply.result = static_cast<std::uint8_t>(result::unknown);
    }
    st->net->send(done.reply_to, caf::make_message(reply));
    serve_next(self, st);
  });
}

inline caf::behavior service(caf::event_based_actor* self, std::shared_ptr<service_state> st) {
  return {[self, st](const increment& inc) {
    st->queue.push_back(inc);
    if (!st->busy) serve_next(self, st);
  }};
}

}  // namespace counter
