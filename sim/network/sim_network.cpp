#include "sim/network/sim_network.hpp"

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/send.hpp>

#include <xxhash.h>

namespace dkv::sim {

sim_network::sim_network(caf::actor_system& system, dkv::rng random, trace_hash& trace)
    : system_(system), random_(random), trace_(trace) {}

const link_faults& sim_network::faults_of(node_id from, node_id to) const {
  const auto it = link_overrides_.find({from, to});
  return it == link_overrides_.end() ? faults_ : it->second;
}

void sim_network::route(node_id from, node_id to, const caf::message& payload) {
  ++stats_.sent;
  const auto now_ns = static_cast<std::uint64_t>(system_.clock().now().time_since_epoch().count());
  // The round trip a real wire would make: an unregistered type comes back
  // empty (CAF only logs the failure), so compare what came back.
  buffer_.clear();
  caf::binary_serializer sink{system_, buffer_};
  caf::message received;
  bool intact = !sink(const_cast<caf::message&>(payload));
  if (intact) {
    caf::binary_deserializer source{system_, buffer_};
    intact = !source(received) && received.size() == payload.size() && received.type_token() == payload.type_token();
  }
  const auto destination = endpoints_.find(to);
  if (!intact || destination == endpoints_.end()) {
    ++stats_.unroutable;
    return;
  }
  stats_.bytes += buffer_.size();
  if (cuts_.blocked(from, to)) {
    ++stats_.cut;
    return;
  }
  const link_faults& f = faults_of(from, to);
  if (random_.chance(f.drop)) {
    ++stats_.dropped;
    return;
  }
  const std::uint64_t bytes_hash = XXH3_64bits(buffer_.data(), buffer_.size());
  const int copies = random_.chance(f.duplicate) ? 2 : 1;
  stats_.duplicated += static_cast<std::uint64_t>(copies - 1);
  for (int i = 0; i < copies; ++i)
    queue_.push({now_ns + random_.between(f.min_latency_ns, f.max_latency_ns), next_sequence_++, from, to,
                 destination->second.incarnation, received, bytes_hash});
}

void sim_network::deliver_due(std::uint64_t now_ns) {
  while (!queue_.empty() && queue_.top().arrival_ns <= now_ns) {
    in_flight_message item = std::move(const_cast<in_flight_message&>(queue_.top()));
    queue_.pop();
    const auto endpoint = endpoints_.find(item.to);
    if (cuts_.blocked(item.from, item.to) || endpoint == endpoints_.end() ||
        endpoint->second.incarnation != item.to_incarnation) {
      ++stats_.cut;
      continue;
    }
    trace_.delivery(item.arrival_ns, item.from, item.to, item.bytes_hash);
    ++stats_.delivered;
    caf::anon_send(endpoint->second.actor, std::move(item.payload));
  }
}

void sim_network::attach(node_id id, caf::actor actor) { endpoints_[id] = {std::move(actor), next_incarnation_++}; }
void sim_network::detach(node_id id) { endpoints_.erase(id); }

}  // namespace dkv::sim
