#include "sim/network/sim_network.hpp"

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <queue>

#include <xxhash.h>

namespace dkv::sim {

namespace {

using deliver_atom = caf::atom_constant<caf::atom("deliver")>;

struct in_flight {
  std::uint64_t arrival_ns;
  std::uint64_t sequence;  // ties at one arrival time go in send order
  node_id from, to;
  caf::message payload;     // already round-tripped through the serializer
  std::uint64_t bytes_hash;  // of its serialized form, for the trace
};

struct arrives_later {
  bool operator()(const in_flight& a, const in_flight& b) const noexcept {
    return a.arrival_ns != b.arrival_ns ? a.arrival_ns > b.arrival_ns : a.sequence > b.sequence;
  }
};

std::uint64_t now_ns(caf::local_actor* self) {
  return static_cast<std::uint64_t>(self->clock().now().time_since_epoch().count());
}

}  // namespace

struct network_state {
  dkv::rng random{0};
  trace_hash* trace = nullptr;
  link_faults faults;
  std::map<std::pair<node_id, node_id>, link_faults> link_overrides;
  partition cuts;
  std::map<node_id, caf::actor> endpoints;
  std::priority_queue<in_flight, std::vector<in_flight>, arrives_later> queue;
  std::uint64_t next_sequence = 0;
  std::uint64_t armed_ns = 0;  // the earliest delivery timer armed, 0 if none
  network_stats stats;

  const link_faults& faults_of(node_id from, node_id to) const {
    const auto it = link_overrides.find({from, to});
    return it == link_overrides.end() ? faults : it->second;
  }
};

using network_actor = caf::stateful_actor<network_state>;

namespace {

void arm(network_actor* self) {
  auto& st = self->state;
  if (st.queue.empty()) return;
  const std::uint64_t next = st.queue.top().arrival_ns;
  if (st.armed_ns != 0 && st.armed_ns <= next) return;
  st.armed_ns = next;
  self->delayed_send(self, std::chrono::nanoseconds(next - now_ns(self)), deliver_atom::value);
}

void route(network_actor* self, node_id from, node_id to, const caf::message& payload) {
  auto& st = self->state;
  ++st.stats.sent;
  // The round trip a real wire would make: an unregistered type comes back
  // empty (CAF only logs the failure), so compare what came back.
  std::vector<char> bytes;
  caf::binary_serializer sink{self->system(), bytes};
  caf::message received;
  bool intact = !sink(const_cast<caf::message&>(payload));
  if (intact) {
    caf::binary_deserializer source{self->system(), bytes};
    intact = !source(received) && received.size() == payload.size() && received.type_token() == payload.type_token();
  }
  if (!intact || st.endpoints.count(to) == 0) {
    ++st.stats.unroutable;
    return;
  }
  st.stats.bytes += bytes.size();
  const std::uint64_t bytes_hash = XXH3_64bits(bytes.data(), bytes.size());
  if (st.cuts.blocked(from, to)) {
    ++st.stats.cut;
    return;
  }
  const link_faults& f = st.faults_of(from, to);
  if (st.random.chance(f.drop)) {
    ++st.stats.dropped;
    return;
  }
  const int copies = st.random.chance(f.duplicate) ? 2 : 1;
  st.stats.duplicated += static_cast<std::uint64_t>(copies - 1);
  for (int i = 0; i < copies; ++i) {
    const std::uint64_t latency = st.random.between(f.min_latency_ns, f.max_latency_ns);
    st.queue.push({now_ns(self) + latency, st.next_sequence++, from, to, received, bytes_hash});
  }
  arm(self);
}

void deliver_due(network_actor* self) {
  auto& st = self->state;
  const std::uint64_t now = now_ns(self);
  if (st.armed_ns <= now) st.armed_ns = 0;
  while (!st.queue.empty() && st.queue.top().arrival_ns <= now) {
    in_flight item = std::move(const_cast<in_flight&>(st.queue.top()));
    st.queue.pop();
    const auto endpoint = st.endpoints.find(item.to);
    if (st.cuts.blocked(item.from, item.to) || endpoint == st.endpoints.end()) {
      ++st.stats.cut;
      continue;
    }
    st.trace->delivery(now, item.from, item.to, item.bytes_hash);
    ++st.stats.delivered;
    self->send(endpoint->second, std::move(item.payload));
  }
  arm(self);
}

// Spawned with its arguments rather than from a capturing lambda: CAF
// 0.17's init for an argument-less function actor dereferences a null
// pointer (caught by UBSan).
caf::behavior network_behavior(network_actor* self, dkv::rng random, trace_hash* trace) {
  self->state.random = random;
  self->state.trace = trace;
  return {
      [=](route_atom, node_id from, node_id to, const caf::message& payload) { route(self, from, to, payload); },
      [=](deliver_atom) { deliver_due(self); },
  };
}

}  // namespace

sim_network::sim_network(caf::actor_system& system, dkv::rng random, trace_hash& trace) {
  handle_ = system.spawn(network_behavior, random, &trace);
  state_ = &static_cast<network_actor*>(caf::actor_cast<caf::abstract_actor*>(handle_))->state;
}

void sim_network::attach(node_id id, caf::actor endpoint) { state_->endpoints[id] = std::move(endpoint); }
void sim_network::detach(node_id id) { state_->endpoints.erase(id); }
partition& sim_network::cuts() { return state_->cuts; }
void sim_network::set_faults(const link_faults& faults) { state_->faults = faults; }
void sim_network::set_link_faults(node_id from, node_id to, const link_faults& faults) {
  state_->link_overrides[{from, to}] = faults;
}
void sim_network::clear_link_faults() { state_->link_overrides.clear(); }
const network_stats& sim_network::stats() const { return state_->stats; }
std::size_t sim_network::in_flight() const { return state_->queue.size(); }

}  // namespace dkv::sim
