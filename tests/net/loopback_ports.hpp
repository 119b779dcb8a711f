#pragma once
// Ports for loopback tests: `n` distinct ports free on 127.0.0.1 just now,
// bound together at port 0 (so that they differ) and then released for the
// servers under test to bind (they use SO_REUSEADDR).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <vector>

namespace dkv::net::testing {

inline std::vector<std::uint16_t> free_ports(std::size_t n) {
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::acceptor> held;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < n; ++i) {
    held.emplace_back(io, boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), 0});
    ports.push_back(held.back().local_endpoint().port());
  }
  return ports;
}

}  // namespace dkv::net::testing
