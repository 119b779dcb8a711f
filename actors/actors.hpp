#pragma once
// Embedding dkv's actors in a CAF application: the entry points for spawning
// a raft_node or a client in an actor system the application owns.
// Link dkv::actors. The guide is docs/embedding.md.
//
//   caf::actor_system_config cfg;
//   dkv::actors::add_message_types(cfg);      // before the system is built
//   cfg.add_message_types<caf::id_block::my_app>();  // the application's own,
//                                             // a block starting at caf::id_block::dkv_actors::end
//   caf::actor_system system{cfg};
//   auto node = dkv::actors::spawn_raft_node(system, config, seams, seed);
//
// What differs between a simulated and a real node is only its seams
// (actors/seams.hpp): where its messages go (transport), its files
// (storage::file_system: a POSIX directory or sim/disk's simulated disk) and
// its clock (local_clock). Outside the simulator the transport is dkv's TCP
// peer network, one per process (net/peer/peer_network.hpp, dkv::net_peer):
// peer_network::transport(group); examples/three_processes shows a member.
//
// Misuse fails at spawn time with an embed_error whose message says what is
// wrong, instead of a node that drops every message (a system without dkv's
// type IDs delivers them as empty messages) or stops at once:
//   - the actor system lacks dkv's message types;
//   - the options are out of range (validate(), below);
//   - a seam is missing;
//   - open_data_directory() cannot list or write the directory.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "actors/client/client.hpp"
#include "actors/messages.hpp"
#include "actors/raft/raft_node.hpp"
#include "actors/seams.hpp"
#include "actors/storage/posix_file_system.hpp"
#include "store/error.hpp"

namespace dkv::actors {

// A misuse of the entry points below; what() starts with "dkv: " and says
// what to change.
class embed_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Adds dkv's type-ID block (dkv_actors, from caf::first_custom_type_id; see
// actors/messages.hpp) to a configuration, before its actor system is built.
// The same as register_message_types().
void add_message_types(caf::actor_system_config& cfg);

// Success if every type of dkv's block is registered in `system`; else an
// invalid_operation naming the first one missing and what to call.
error check_message_types(const caf::actor_system& system);

// Success if the options make sense; else an invalid_operation naming the
// field, its value and the rule, e.g. "raft.election_ticks (1) must be
// greater than raft.heartbeat_ticks (1)".
error validate(const raft_node_config& config);
error validate(const client_config& config);

// A node's data directory on the POSIX file system, created if missing and
// probed (listed, a probe file written, synced and removed). Throws
// embed_error naming the path and the reason when it is unusable.
std::unique_ptr<posix_file_system> open_data_directory(const std::string& path);

// What a node reaches the world through. The file system must outlive the
// node (a raft_node keeps a plain pointer to it).
struct node_seams {
  storage::file_system* files = nullptr;
  std::shared_ptr<transport> network;
  std::shared_ptr<local_clock> clock;
};

// The actor system's own clock as a node's clock: virtual time under CAF's
// test coordinator (so deterministic in the simulator, but with no drift or
// skew: sim_cluster's clocks have those), the steady clock otherwise.
class actor_system_clock final : public local_clock {
 public:
  explicit actor_system_clock(caf::actor_system& system) : system_(&system) {}
  std::uint64_t now_ns() const override;
  std::uint64_t scheduler_delay_ns(std::uint64_t local_ns) const override { return local_ns; }

 private:
  caf::actor_system* system_;
};

// Spawns a raft_node (actors/raft/raft_node.hpp) in `system`. `seed` seeds
// its randomized election timeouts. `status`, if given, is written after
// every input; only a single-threaded driver (the test coordinator) may read
// it while the node runs. Throws embed_error on misuse (see above).
caf::actor spawn_raft_node(caf::actor_system& system, const raft_node_config& config, const node_seams& seams,
                           std::uint64_t seed, raft_node_status* status = nullptr);

// Spawns a client actor (actors/client/client.hpp): send it a store_call,
// get a store_answer. `config.nodes` are the nodes' transport addresses and
// `config.self` the client's own, where nodes answer. Throws embed_error on
// misuse.
caf::actor spawn_client(caf::actor_system& system, const client_config& config, std::shared_ptr<transport> network,
                        std::shared_ptr<local_clock> clock, std::uint64_t seed);

// store_call by operation, for an actor that asks a client directly:
//   self->request(client, caf::infinite, calls::set("k", "v")).then([](store_answer& a) { … });
// An answer's code is docs/spec.md's (error_of() in actors/client/dstore.hpp).
namespace calls {
inline store_call make(operation_kind op, std::string key, std::string value = {}, std::uint64_t expire_in = 0,
                       std::uint64_t delete_in = 0) {
  return {static_cast<std::uint8_t>(op), std::move(key), std::move(value), expire_in, delete_in};
}
inline store_call set(std::string key, std::string value) {
  return make(operation_kind::set, std::move(key), std::move(value));
}
inline store_call set_e(std::string key, std::string value, std::uint64_t expire_in, std::uint64_t delete_in) {
  return make(operation_kind::set_e, std::move(key), std::move(value), expire_in, delete_in);
}
inline store_call set_e_if_unset(std::string key, std::string value, std::uint64_t expire_in, std::uint64_t delete_in) {
  return make(operation_kind::set_e_if_unset, std::move(key), std::move(value), expire_in, delete_in);
}
inline store_call expire(std::string key) { return make(operation_kind::expire, std::move(key)); }
inline store_call remove(std::string key) { return make(operation_kind::remove, std::move(key)); }
inline store_call remove_if_value(std::string key, std::string value) {
  return make(operation_kind::remove_if_value, std::move(key), std::move(value));
}
inline store_call get(std::string key) { return make(operation_kind::get, std::move(key)); }
inline store_call has(std::string key) { return make(operation_kind::has, std::move(key)); }
inline store_call info() { return make(operation_kind::info, {}); }
}  // namespace calls

}  // namespace dkv::actors
