#pragma once
// The messages dkv's actors exchange, registered in one CAF type-ID block.
// Raft's own traffic travels as bytes (store/raft/message_codec): the core
// stays free of CAF, and the bytes are the same over TCP and in simulation.

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <string>

namespace dkv::actors {

// One Raft message between nodes.
struct raft_packet {
  std::string bytes;
};

// A node's clock fired: time for replica::tick().
struct raft_tick {
  std::uint64_t count = 0;
};

// A client's log command (store/replicated/log_command) for the leader.
struct propose_command {
  std::uint64_t client = 0;   // the network address to answer
  std::uint64_t request = 0;  // the client's id for this request
  std::string command;
};

// The answer to a propose_command, with SPEC.md's codes: unavailable
// (certainly never applied: not the leader — `leader` says whom to ask —,
// busy, or lost to another leader's entry), invalid_operation (too large),
// or, once the command was applied at `log_index`, the store's own answer
// with the state machine's `status` (duplicate, unknown session, …).
struct command_outcome {
  std::uint64_t request = 0;
  std::uint8_t code = 0;  // dkv::error_code
  std::uint64_t leader = 0;
  std::uint64_t log_index = 0;
  std::uint8_t status = 0;    // replicated::apply_status when applied
  std::uint64_t store_index = 0;
  bool deleted = false;       // DeleteIfValue's answer
};

// A linearizable read (SPEC.md dstore: the read-index path, no stale local
// read): Get when `want_value`, else Has.
struct read_command {
  std::uint64_t client = 0;
  std::uint64_t request = 0;
  std::string key;
  bool want_value = true;
};

// Its answer: `code` as in command_outcome; `index` is the store write index
// of the state that was read.
struct read_outcome {
  std::uint64_t request = 0;
  std::uint8_t code = 0;  // dkv::error_code
  std::uint64_t leader = 0;
  bool found = false;
  std::string value;
  std::uint64_t index = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_packet& x) {
  return f(caf::meta::type_name("raft_packet"), x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_tick& x) {
  return f(caf::meta::type_name("raft_tick"), x.count);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, propose_command& x) {
  return f(caf::meta::type_name("propose_command"), x.client, x.request, x.command);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_outcome& x) {
  return f(caf::meta::type_name("command_outcome"), x.request, x.code, x.leader, x.log_index, x.status,
           x.store_index, x.deleted);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_command& x) {
  return f(caf::meta::type_name("read_command"), x.client, x.request, x.key, x.want_value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_outcome& x) {
  return f(caf::meta::type_name("read_outcome"), x.request, x.code, x.leader, x.found, x.value, x.index);
}

}  // namespace dkv::actors

CAF_BEGIN_TYPE_ID_BLOCK(dkv_actors, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::raft_packet))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::raft_tick))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::propose_command))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::command_outcome))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::read_command))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::read_outcome))
CAF_END_TYPE_ID_BLOCK(dkv_actors)

namespace dkv::actors {

inline void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::dkv_actors>();
}

}  // namespace dkv::actors
