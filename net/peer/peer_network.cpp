// peer_network: the public face of peer_core (net/peer/peer_core.hpp).

#include "net/peer/peer_network.hpp"

#include "net/peer/peer_core.hpp"

namespace dkv::net {

namespace {

// One group's seam. It keeps the core alive, so an actor that still holds
// it after the peer_network is gone sends into a stopped core: dropped.
class group_transport final : public actors::transport {
 public:
  group_transport(std::shared_ptr<detail::peer_core> core, std::uint64_t group)
      : core_(std::move(core)), group_(group) {}
  void send(actors::net_address to, const caf::message& message) override { core_->send(group_, to, message); }

 private:
  std::shared_ptr<detail::peer_core> core_;
  std::uint64_t group_;
};

}  // namespace

std::uint64_t member_of(actors::net_address address) noexcept { return address & 0xffff'ffffu; }

peer_network::peer_network(caf::actor_system& system, peer_network_options options)
    : core_(std::make_shared<detail::peer_core>(system, std::move(options))) {}

peer_network::~peer_network() { stop(); }

dkv::error peer_network::start() { return core_->start(); }
void peer_network::stop() { core_->stop(); }
std::uint16_t peer_network::bound_port() const { return core_->bound_port(); }

std::shared_ptr<actors::transport> peer_network::transport(std::uint64_t group) {
  return std::make_shared<group_transport>(core_, group);
}

void peer_network::attach(std::uint64_t group, actors::net_address address, caf::actor target) {
  core_->attach(group, address, std::move(target));
}

peer_network::counters peer_network::stats() const {
  const detail::atomic_counters& c = core_->counters();
  const auto read = [](const std::atomic<std::uint64_t>& n) { return n.load(std::memory_order_relaxed); };
  return {read(c.sent), read(c.received), read(c.dropped), read(c.connects), read(c.undecodable), read(c.rejected)};
}

}  // namespace dkv::net
