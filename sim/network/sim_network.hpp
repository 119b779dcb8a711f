#pragma once
// The simulated network: it carries all traffic — node to node and client to
// node — as one-way messages. A sender calls route(from, to, payload); the
// network round-trips the payload through CAF's binary serializer (so
// unregistered types fail here as they would on a wire, sizes are real and
// the trace hashes real bytes), draws drop, duplicate and latency, and holds
// the message until its arrival time. The draws for a message are keyed by
// its link and the instant it is sent (instant_random), so a message sent
// when it was in a run with less traffic fares as it did. The simulator
// delivers arrivals as virtual time reaches them — no timer per message, and
// nothing at all when the network is idle. Partitions are checked at send and
// again on arrival, so messages in flight on a link that is cut are lost.
//
// A plain object, not an actor: the simulation runs on one thread, so actors
// call route() directly through their transport, and the driver configures
// faults and partitions between steps.

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/message.hpp>
#include <caf/rtti_pair.hpp>
#include <caf/type_erased_value.hpp>

#include <map>
#include <vector>

#include "sim/network/link_faults.hpp"
#include "sim/network/partition.hpp"
#include "sim/simulator/instant_random.hpp"
#include "sim/simulator/trace_hash.hpp"
#include "store/rng.hpp"

namespace dkv::sim {

class sim_network {
 public:
  sim_network(caf::actor_system& system, dkv::rng random, trace_hash& trace);

  // Sends `payload` from one logical address to another, now.
  void route(node_id from, node_id to, const caf::message& payload);

  // The earliest arrival still in flight, if any.
  bool has_arrivals() const noexcept { return !arrivals_.empty(); }
  std::uint64_t next_arrival_ns() const noexcept { return arrivals_.front().arrival_ns; }
  // Hands every message due by `now_ns` to its destination actor.
  void deliver_due(std::uint64_t now_ns);

  // (Re)binds a logical address to an actor: a restarted node attaches anew,
  // and what was in flight to its previous process is lost with it (as a
  // real connection to a crashed process is).
  void attach(node_id id, caf::actor endpoint);
  void detach(node_id id);

  // Loses what is in flight and every message sent from now on (a run out
  // of its budget of steps).
  void go_dark();

  partition& cuts() noexcept { return cuts_; }
  void set_faults(const link_faults& faults) { faults_ = faults; }  // every link without its own
  void set_link_faults(node_id from, node_id to, const link_faults& faults) { link_overrides_[{from, to}] = faults; }
  void clear_link_faults() { link_overrides_.clear(); }
  const network_stats& stats() const noexcept { return stats_; }
  std::size_t in_flight() const noexcept { return arrivals_.size(); }

 private:
  struct in_flight_message {
    node_id from, to;
    std::uint64_t to_incarnation;  // of the destination when sent
    caf::message payload;          // already round-tripped through the serializer
    std::uint64_t bytes_hash;      // of its serialized form, for the trace
  };
  // The heap orders small keys; the messages stay put in their slots.
  struct arrival {
    std::uint64_t arrival_ns;
    std::uint64_t sequence;  // ties at one arrival time go in send order
    std::size_t slot;        // in in_flight_
  };
  struct arrives_later {
    bool operator()(const arrival& a, const arrival& b) const noexcept {
      return a.arrival_ns != b.arrival_ns ? a.arrival_ns > b.arrival_ns : a.sequence > b.sequence;
    }
  };

  // A one-element message type the network has carried: the header
  // caf::message::save writes before the element (a zero type number and
  // "@<>+" with the type's portable name), as CAF's serializer wrote it, and
  // a default value to load a copy into. CAF 0.17 looks both up by name,
  // under a lock, for every message. `fast` once the first message of the
  // type gave the same bytes both ways; never for an unregistered type.
  struct wire_type {
    caf::rtti_pair rtti;
    std::vector<char> header;
    caf::type_erased_value_ptr prototype;
    bool fast = false;
  };
  const wire_type* wire_type_of(const caf::message& payload);
  // Serializes `payload` into buffer_ and reads it back into `received`; false if it does not come back whole.
  bool round_trip(const caf::message& payload, caf::message& received);

  const link_faults& faults_of(node_id from, node_id to) const;
  caf::actor_system& system_;
  instant_random random_;  // keyed by link
  trace_hash& trace_;
  link_faults faults_;
  std::map<std::pair<node_id, node_id>, link_faults> link_overrides_;
  partition cuts_;
  bool dark_ = false;
  struct endpoint {
    caf::actor actor;
    std::uint64_t incarnation = 0;
  };
  std::map<node_id, endpoint> endpoints_;
  std::uint64_t next_incarnation_ = 1;
  std::vector<arrival> arrivals_;             // a heap: the earliest first
  std::vector<in_flight_message> in_flight_;  // slots, reused
  std::vector<std::size_t> free_slots_;
  std::uint64_t next_sequence_ = 0;
  network_stats stats_;
  std::vector<char> buffer_;           // reused serialization buffer
  std::vector<wire_type> wire_types_;  // a handful: searched in order
};

}  // namespace dkv::sim
