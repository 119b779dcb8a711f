#include "real/run/network_world.hpp"

#include "net/client/remote_store.hpp"

namespace dkv::real {

net::message request_of(const actors::store_call& call) {
  net::message m;
  switch (static_cast<operation_kind>(call.op)) {
    case operation_kind::set: m.type = net::message_type::set; break;
    case operation_kind::set_e: m.type = net::message_type::set_e; break;
    case operation_kind::set_e_if_unset: m.type = net::message_type::set_e_if_unset; break;
    case operation_kind::expire: m.type = net::message_type::expire; break;
    case operation_kind::remove: m.type = net::message_type::remove; break;
    case operation_kind::remove_if_value: m.type = net::message_type::remove_if_value; break;
    case operation_kind::get: m.type = net::message_type::get; break;
    case operation_kind::has: m.type = net::message_type::has; break;
    case operation_kind::info: m.type = net::message_type::db_info; break;
  }
  m.key = call.key;
  m.value = call.value;
  m.expire_in = call.expire_in;
  m.delete_in = call.delete_in;
  return m;
}

actors::store_answer answer_of(const net::message& response) {
  actors::store_answer a;
  const error e = net::error_of(response);
  a.code = static_cast<std::uint8_t>(e.code());
  a.message = e.message();
  if (e.ok()) {
    a.found = response.ok;
    a.value = response.value;
    a.index = net::meta_index(response.meta);
  }
  return a;
}

// Every client of the workload shares the one network client: it keeps a
// call of each in flight at most, and the client multiplexes them.
void network_world::submit(std::size_t, actors::store_call call, answer_callback done) {
  loop_.call(*client_, shard_, request_of(call),
             [done = std::move(done)](net::message response) { done(answer_of(response)); });
}

actors::store_answer network_world::call(const actors::store_call& call) {
  return answer_of(loop_.call_and_wait(*client_, shard_, request_of(call)));
}

}  // namespace dkv::real
