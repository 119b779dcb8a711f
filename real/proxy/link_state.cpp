#include "real/proxy/link_state.hpp"

#include <chrono>

#include "real/proxy/proxy_connection.hpp"

namespace dkv::real::detail {

link_state::link_state(asio::io_context& io, member_id from, member_id to, std::uint16_t target_port, dkv::rng random)
    : from(from),
      to(to),
      target(asio::ip::address_v4::loopback(), target_port),
      acceptor(io),
      accept_pause(io),
      random(random) {}

void accept_next(const std::shared_ptr<link_state>& link) {
  link->acceptor.async_accept([link](const boost::system::error_code& ec, tcp::socket socket) {
    if (!link->acceptor.is_open()) return;  // stopped
    if (ec) {
      // Out of descriptors, say: accepting again at once would fail at once.
      link->accept_pause.expires_after(std::chrono::milliseconds(10));
      link->accept_pause.async_wait([link](const boost::system::error_code& e) {
        if (!e && link->acceptor.is_open()) accept_next(link);
      });
      return;
    }
    ++link->stats.connections;
    auto connection = std::make_shared<proxy_connection>(link, std::move(socket));
    link->connections.insert(connection);
    connection->start();
    accept_next(link);
  });
}

void close_connections(link_state& link, bool reset) {
  // A copy: each close takes its connection out of the set.
  const auto open = link.connections;
  for (const auto& connection : open) connection->close(reset);
}

}  // namespace dkv::real::detail
