#include "sim/network/sim_network.hpp"

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/detail/dynamic_message_data.hpp>
#include <caf/send.hpp>
#include <caf/uniform_type_info_map.hpp>

#include <xxhash.h>

#include <algorithm>

namespace dkv::sim {

sim_network::sim_network(caf::actor_system& system, dkv::rng random, trace_hash& trace)
    : system_(system), random_(random.next()), trace_(trace) {}

const link_faults& sim_network::faults_of(node_id from, node_id to) const {
  const auto it = link_overrides_.find({from, to});
  return it == link_overrides_.end() ? faults_ : it->second;
}

const sim_network::wire_type* sim_network::wire_type_of(const caf::message& payload) {
  if (payload.size() != 1) return nullptr;
  const caf::rtti_pair rtti = payload.cvals()->type(0);
  for (const wire_type& t : wire_types_)
    if (t.rtti == rtti) return t.fast ? &t : nullptr;
  // First message of this type: learn it, and check once that the fast path
  // gives the very bytes message::save gives (else: the generic path, always).
  wire_type t{rtti, {}, nullptr, false};
  const caf::uniform_type_info_map& types = system_.types();
  const std::string& name = types.portable_name(rtti);
  if (name != types.default_type_name()) {  // unregistered: the generic path fails it
    t.prototype = types.make_value(name);
    std::vector<char> generic;
    caf::binary_serializer whole{system_, generic};
    caf::binary_serializer head{system_, t.header};
    std::uint16_t zero = 0;
    std::string tname = "@<>+" + name;
    if (t.prototype && t.prototype->type() == rtti && !whole(const_cast<caf::message&>(payload)) &&
        !head.begin_object(zero, tname)) {
      std::vector<char> fast = t.header;
      caf::binary_serializer element{system_, fast};
      t.fast = !payload.cvals()->save(0, element) && !element.end_object() && fast == generic;
    }
  }
  wire_types_.push_back(std::move(t));
  return wire_types_.back().fast ? &wire_types_.back() : nullptr;
}

bool sim_network::round_trip(const caf::message& payload, caf::message& received) {
  if (const wire_type* type = wire_type_of(payload)) {
    // message::save and message::load for one element of a known type: the
    // header (type name) as CAF wrote it for this type, then the element
    // through CAF's serializer, and back through its deserializer into a
    // fresh default value; the same bytes and the same message as the
    // generic path below, without its per-message lookups by type name.
    buffer_.assign(type->header.begin(), type->header.end());
    caf::binary_serializer sink{system_, buffer_};  // appends after the header
    if (payload.cvals()->save(0, sink) || sink.end_object()) return false;
    caf::binary_deserializer source{system_, buffer_};
    source.skip(type->header.size());
    caf::type_erased_value_ptr value = type->prototype->copy();
    if (value->load(source) || source.end_object()) return false;
    caf::detail::dynamic_message_data::elements elements;  // what message::load makes
    elements.push_back(std::move(value));
    auto data = caf::make_counted<caf::detail::dynamic_message_data>(std::move(elements));
    received = caf::message{caf::message::data_ptr{std::move(data)}};
    return true;
  }
  // The round trip a real wire would make: an unregistered type comes back
  // empty (CAF only logs the failure), so compare what came back.
  buffer_.clear();
  caf::binary_serializer sink{system_, buffer_};
  if (sink(const_cast<caf::message&>(payload))) return false;
  caf::binary_deserializer source{system_, buffer_};
  return !source(received) && received.size() == payload.size() && received.type_token() == payload.type_token();
}

void sim_network::go_dark() {
  dark_ = true;
  stats_.cut += arrivals_.size();
  arrivals_.clear();
  in_flight_.clear();
  free_slots_.clear();
}

void sim_network::route(node_id from, node_id to, const caf::message& payload) {
  ++stats_.sent;
  if (dark_) {
    ++stats_.cut;
    return;
  }
  const auto now_ns = static_cast<std::uint64_t>(system_.clock().now().time_since_epoch().count());
  caf::message received;
  const bool intact = round_trip(payload, received);
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
  dkv::rng random = random_.at(now_ns, (std::uint64_t{from} << 32) | to);
  if (random.chance(f.drop)) {
    ++stats_.dropped;
    return;
  }
  const std::uint64_t bytes_hash = XXH3_64bits(buffer_.data(), buffer_.size());
  const int copies = random.chance(f.duplicate) ? 2 : 1;
  stats_.duplicated += static_cast<std::uint64_t>(copies - 1);
  for (int i = 0; i < copies; ++i) {
    std::size_t slot = in_flight_.size();
    in_flight_message item{from, to, destination->second.incarnation, i + 1 < copies ? received : std::move(received),
                           bytes_hash};
    if (free_slots_.empty()) {
      in_flight_.push_back(std::move(item));
    } else {
      slot = free_slots_.back();
      free_slots_.pop_back();
      in_flight_[slot] = std::move(item);
    }
    arrivals_.push_back({now_ns + random.between(f.min_latency_ns, f.max_latency_ns), next_sequence_++, slot});
    std::push_heap(arrivals_.begin(), arrivals_.end(), arrives_later{});
  }
}

void sim_network::deliver_due(std::uint64_t now_ns) {
  while (!arrivals_.empty() && arrivals_.front().arrival_ns <= now_ns) {
    std::pop_heap(arrivals_.begin(), arrivals_.end(), arrives_later{});
    const arrival next = arrivals_.back();
    arrivals_.pop_back();
    in_flight_message item = std::move(in_flight_[next.slot]);
    free_slots_.push_back(next.slot);
    const auto endpoint = endpoints_.find(item.to);
    if (cuts_.blocked(item.from, item.to) || endpoint == endpoints_.end() ||
        endpoint->second.incarnation != item.to_incarnation) {
      ++stats_.cut;
      continue;
    }
    trace_.delivery(next.arrival_ns, item.from, item.to, item.bytes_hash);
    ++stats_.delivered;
    caf::anon_send(endpoint->second.actor, std::move(item.payload));
  }
}

void sim_network::attach(node_id id, caf::actor actor) { endpoints_[id] = {std::move(actor), next_incarnation_++}; }
void sim_network::detach(node_id id) { endpoints_.erase(id); }

}  // namespace dkv::sim
