#pragma once
// The simulated network: one actor that carries all traffic — node to node
// and client to node — as one-way messages. A sender hands it
// (route, from, to, payload); the network round-trips the payload through
// CAF's binary serializer (so unregistered types fail here as they would on a
// wire, sizes are real and the trace hashes real bytes), draws drop,
// duplicate and latency from its seeded rng, and keeps the messages in flight
// in its own queue with a single timer armed for the earliest arrival — an
// idle network arms none. Partitions are checked at send and again on
// arrival, so messages in flight on a link that is cut are lost.
//
// The driver (single-threaded) configures faults and partitions between steps
// through this handle.

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>

#include <map>

#include "sim/network/link_faults.hpp"
#include "sim/network/partition.hpp"
#include "sim/simulator/trace_hash.hpp"
#include "store/rng.hpp"

namespace dkv::sim {

using route_atom = caf::atom_constant<caf::atom("route")>;

struct network_state;

class sim_network {
 public:
  sim_network(caf::actor_system& system, dkv::rng random, trace_hash& trace);

  const caf::actor& handle() const noexcept { return handle_; }

  // (Re)binds a logical address to an actor: a restarted node attaches anew.
  void attach(node_id id, caf::actor endpoint);
  void detach(node_id id);

  partition& cuts();
  void set_faults(const link_faults& faults);  // every link without its own
  void set_link_faults(node_id from, node_id to, const link_faults& faults);
  void clear_link_faults();
  const network_stats& stats() const;
  std::size_t in_flight() const;

 private:
  caf::actor handle_;
  network_state* state_;
};

}  // namespace dkv::sim
