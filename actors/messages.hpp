#pragma once
// The messages dkv's actors exchange, registered in one CAF type-ID block.
// Raft's own traffic travels as bytes (store/raft/message_codec): the core
// stays free of CAF, and the bytes are the same over TCP and in simulation.
//
// Four conversations:
//   node <-> node      raft_packet
//   client <-> node    propose_command / command_outcome, read_command / read_outcome
//   caller <-> client  store_call / store_answer (a request with a response)
//   operator -> node   membership_command / membership_outcome, health_query /
//                      replica_health (requests with a response)
// and what an actor sends itself (raft_tick, client_wakeup, drive_later,
// availability_check) or hears from its disk (log_synced).

#include <caf/actor_system_config.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "store/operation.hpp"
#include "store/results.hpp"

namespace dkv {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, db_info& x) {
  return f(caf::meta::type_name("db_info"), x.size_bytes, x.engine, x.features, x.metadata);
}

}  // namespace dkv

namespace dkv::actors {

// One Raft message between nodes.
struct raft_packet {
  std::string bytes;
};

// A node's clock fired: time for replica::tick().
struct raft_tick {
  std::uint64_t count = 0;
};

// A client's log command (store/replicated/log_command) for the leader. A
// node that is not the leader forwards it once to the leader it knows.
struct propose_command {
  std::uint64_t client = 0;   // the network address to answer
  std::uint64_t request = 0;  // the client's id for this attempt
  std::string command;
  bool forwarded = false;
};

// The answer to a propose_command, with docs/spec.md's codes: unavailable with
// log_index 0 (this attempt was certainly never appended: no leader —
// `leader` names one if known —, busy, or lost to another leader's entry),
// invalid_operation with log_index 0 (too large), or, once the command was
// applied at `log_index`, the state machine's `status` (applied, duplicate,
// unknown session, …) with the store's answer.
//
// A refusal whose `message` is set is final: the node has known no live
// leader for raft_node_config::unavailable_after_ticks and says why. Asking
// again soon would fare no better, so a client answers its call with it.
struct command_outcome {
  std::uint64_t request = 0;
  // dkv::error_code. Without a log index: Unavailable, refused (never
  // applied); Timeout, the node lost track of it (perhaps applied).
  std::uint8_t code = 0;
  std::uint64_t leader = 0;
  std::uint64_t log_index = 0;
  std::uint8_t status = 0;  // replicated::apply_status when applied
  std::uint64_t store_index = 0;
  bool deleted = false;  // DeleteIfValue's answer
  std::string message;   // the store's error message, or why a final refusal
};

enum class read_kind : std::uint8_t { get = 1, has = 2, info = 3 };

// A linearizable read (docs/spec.md dstore: the read-index path, no stale local
// read), forwarded like a proposal.
struct read_command {
  std::uint64_t client = 0;
  std::uint64_t request = 0;
  std::string key;
  std::uint8_t kind = static_cast<std::uint8_t>(read_kind::get);
  bool forwarded = false;
};

// Its answer: `code` and a final refusal's `message` as in command_outcome;
// `index` is the store write index of the state that was read.
struct read_outcome {
  std::uint64_t request = 0;
  std::uint8_t code = 0;  // dkv::error_code
  std::uint64_t leader = 0;
  bool found = false;
  std::string value;
  std::uint64_t index = 0;
  db_info info;         // read_kind::info
  std::string message;  // why a final refusal
};

// One of the nine operations of IStore, as a caller asks the client actor for one.
struct store_call {
  std::uint8_t op = static_cast<std::uint8_t>(operation_kind::get);  // dkv::operation_kind
  std::string key;
  std::string value;
  std::uint64_t expire_in = 0;
  std::uint64_t delete_in = 0;
};

// docs/spec.md's outcome of a store_call: success with the result fields, or a
// code — Timeout only when some attempt may have been applied, Unavailable
// only when none can ever be.
struct store_answer {
  std::uint8_t code = 0;  // dkv::error_code
  std::string message;
  bool found = false;  // get, has; deleteIfValue's "deleted"
  std::string value;   // get
  std::uint64_t index = 0;
  db_info info;  // info
};

// Asks a node to change the cluster's membership by one server (Raft
// thesis §4.1). Only the leader takes it; the answer says at once whether
// the change went into its log, and the change takes effect from there: the
// nodes' status shows the configuration.
enum class membership_change : std::uint8_t {
  add_server = 1,   // joins as a learner, becomes a voter once caught up
  add_learner = 2,  // joins and stays a learner
  remove = 3,       // leaves, a voter or a learner
};

struct membership_command {
  std::uint8_t change = static_cast<std::uint8_t>(membership_change::add_server);
  std::uint64_t node = 0;
};

// `code` 0: taken (appended at `log_index`; a server already a learner is
// promoted once caught up). Else Unavailable, with `refusal` the replica's
// reason in words ("not leader" — `leader` names one if known —, "a
// membership change is in progress", a leader not ready or transferring,
// too few healthy voters), or InvalidOperation for a change that cannot
// apply (adding a member, removing a stranger or the last voter).
struct membership_outcome {
  std::uint8_t code = 0;  // dkv::error_code
  std::uint64_t leader = 0;
  std::uint64_t log_index = 0;
  std::string refusal;
};

// Asks a node how it is, from its own state alone (no leader needed): what
// an operator's status request shows.
struct health_query {
  // Also the digests of the engine and the session table: a read of the
  // whole store, for a check that replicas converged (a real run's).
  bool digests = false;
};

struct replica_health {
  std::uint8_t role = 0;  // raft::role
  std::uint64_t term = 0;
  std::uint64_t leader = 0;  // 0: none known
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  bool repairing = false;
  std::string storage_problem;  // while repairing: the damage its storage was found with
  std::string unavailable;      // why it refuses clients now (a final refusal's message), if it does
  bool digested = false;        // asked for digests: the two below are set
  std::uint64_t engine_digest = 0;
  std::uint64_t sessions_digest = 0;
};

// A node's disk finished the log sync the node started once ready
// `sequence` was written; `failure` is empty if it succeeded.
struct log_synced {
  std::uint64_t sequence = 0;
  std::string failure;
};

// A node took in an input while more waited in its mailbox and put off
// carrying out the replica's output until after them (see raft_node::drive_soon).
struct drive_later {};

// A client's alarm clock rang: timers due by `due_ns` on its own clock are up.
struct client_wakeup {
  std::uint64_t due_ns = 0;
};

// Time for a node to see whether it has been without a leader for
// raft_node_config::unavailable_after_ticks (see raft_node::track_availability).
struct availability_check {};

// A member of another cluster — another member list or token — reached this
// node, and its list names this node: told by the transport that refused it
// (net/peer), to each replica. A replica alone in its own configuration
// then refuses its clients (raft_node: a split brain otherwise).
struct claimed_by_other_cluster {
  std::string detail;  // who, and how the lists differ
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
  return f(caf::meta::type_name("propose_command"), x.client, x.request, x.command, x.forwarded);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command_outcome& x) {
  return f(caf::meta::type_name("command_outcome"), x.request, x.code, x.leader, x.log_index, x.status, x.store_index,
           x.deleted, x.message);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_command& x) {
  return f(caf::meta::type_name("read_command"), x.client, x.request, x.key, x.kind, x.forwarded);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_outcome& x) {
  return f(caf::meta::type_name("read_outcome"), x.request, x.code, x.leader, x.found, x.value, x.index, x.info,
           x.message);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_call& x) {
  return f(caf::meta::type_name("store_call"), x.op, x.key, x.value, x.expire_in, x.delete_in);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_answer& x) {
  return f(caf::meta::type_name("store_answer"), x.code, x.message, x.found, x.value, x.index, x.info);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, membership_command& x) {
  return f(caf::meta::type_name("membership_command"), x.change, x.node);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, membership_outcome& x) {
  return f(caf::meta::type_name("membership_outcome"), x.code, x.leader, x.log_index, x.refusal);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_query& x) {
  return f(caf::meta::type_name("health_query"), x.digests);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_health& x) {
  return f(caf::meta::type_name("replica_health"), x.role, x.term, x.leader, x.commit, x.applied, x.repairing,
           x.storage_problem, x.unavailable, x.digested, x.engine_digest, x.sessions_digest);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, availability_check&) {
  return f(caf::meta::type_name("availability_check"));
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claimed_by_other_cluster& x) {
  return f(caf::meta::type_name("claimed_by_other_cluster"), x.detail);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_synced& x) {
  return f(caf::meta::type_name("log_synced"), x.sequence, x.failure);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drive_later&) {
  return f(caf::meta::type_name("drive_later"));
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_wakeup& x) {
  return f(caf::meta::type_name("client_wakeup"), x.due_ns);
}

}  // namespace dkv::actors

CAF_BEGIN_TYPE_ID_BLOCK(dkv_actors, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::raft_packet))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::raft_tick))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::propose_command))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::command_outcome))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::read_command))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::read_outcome))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::store_call))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::store_answer))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::client_wakeup))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::drive_later))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::log_synced))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::membership_command))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::membership_outcome))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::health_query))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::replica_health))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::availability_check))
CAF_ADD_TYPE_ID(dkv_actors, (dkv::actors::claimed_by_other_cluster))
CAF_END_TYPE_ID_BLOCK(dkv_actors)

namespace dkv::actors {

inline void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::dkv_actors>();
}

}  // namespace dkv::actors
