#pragma once
// What the peer_network tests share: a threaded actor system with dkv's
// types, free loopback ports, cluster options, and waiting with a deadline.

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "actors/messages.hpp"
#include "net/peer/peer_network.hpp"
#include "real/process/loopback_ports.hpp"

namespace dkv::net::testing {

// A real, threaded actor system (not the test coordinator), two workers.
struct threaded_system {
  threaded_system() {
    cfg.set("scheduler.max-threads", 2);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    actors::register_message_types(cfg);
    system.emplace(cfg);
  }
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> system;
};

// Members 1..ports.size() on 127.0.0.1, as seen from `self`.
inline peer_network_options options_for(std::uint64_t self, const std::vector<std::uint16_t>& ports) {
  peer_network_options o;
  o.self = self;
  for (std::size_t i = 0; i < ports.size(); ++i) o.members[i + 1] = {"127.0.0.1", ports[i]};
  return o;
}

inline caf::actor handle_of(caf::scoped_actor& self) { return caf::actor_cast<caf::actor>(self.ptr()); }

// The next message of type T in `self`'s mailbox, or nothing after `timeout`.
template <class T>
std::optional<T> receive_within(caf::scoped_actor& self, std::chrono::milliseconds timeout) {
  std::optional<T> got;
  self->receive([&](T& x) { got = std::move(x); }, caf::after(timeout) >> [] {});
  return got;
}

}  // namespace dkv::net::testing
