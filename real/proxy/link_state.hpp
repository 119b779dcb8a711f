#pragma once
// One directed link of the proxy (link_proxy.hpp): its listener, its fault
// settings and counters, and its open connections. Touched only on the
// proxy's I/O thread (or by a control call once that thread has ended).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <set>

#include "real/proxy/link_proxy.hpp"
#include "store/rng.hpp"

namespace dkv::real::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class proxy_connection;

struct link_state {
  link_state(asio::io_context& io, member_id from, member_id to, std::uint16_t target_port, dkv::rng random);

  const member_id from, to;
  const tcp::endpoint target;  // the receiving member's peer port
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause;  // after a failed accept (out of descriptors, say)
  bool cut = false;
  link_faults faults;
  dkv::rng random;
  link_stats stats;
  std::set<std::shared_ptr<proxy_connection>> connections;  // accepted and not yet closed
};

// Takes the link's connections one after another until its acceptor closes.
void accept_next(const std::shared_ptr<link_state>& link);

// Closes every open connection of the link (with a reset if `reset`).
void close_connections(link_state& link, bool reset);

}  // namespace dkv::real::detail
