#pragma once
// Ports for loopback clusters (real runs, tests): `n` distinct ports free on 127.0.0.1 just now,
// then released for the servers under test to bind (they use SO_REUSEADDR).
//
// They are taken below the kernel's ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range). A port the kernel handed out
// for binding port 0 lies inside that range, and every outgoing connection
// — a peer link, a client — takes its local port from there too: a test
// that starts a server seconds after picking its port lost the port to
// such a connection now and then ("Address already in use"). Below the
// range only another test's pick can collide, and each process starts its
// search at a random place in the range to make that unlikely.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

namespace dkv::real {

// The lowest port the kernel hands out for outgoing connections (32768 if it cannot be read).
inline std::uint16_t ephemeral_low() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 0;
  if (range >> low && low > 1024 && low <= 65535) return static_cast<std::uint16_t>(low);
  return 32768;
}

inline std::vector<std::uint16_t> free_ports(std::size_t n) {
  constexpr unsigned lowest = 10000;
  const unsigned below = ephemeral_low();
  boost::asio::io_context io;
  std::vector<boost::asio::ip::tcp::acceptor> held;  // held until all are found, so that they differ
  std::vector<std::uint16_t> ports;
  const auto take = [&](unsigned port) {
    boost::system::error_code ec;
    boost::asio::ip::tcp::acceptor a(io);
    const boost::asio::ip::tcp::endpoint at{boost::asio::ip::make_address("127.0.0.1"),
                                            static_cast<std::uint16_t>(port)};
    a.open(at.protocol(), ec);
    if (!ec) a.bind(at, ec);
    if (ec) return;
    ports.push_back(a.local_endpoint().port());
    held.push_back(std::move(a));
  };
  if (below > lowest + 1000) {
    const unsigned span = below - lowest;
    unsigned next = lowest + std::random_device{}() % span;
    for (unsigned tried = 0; tried < span && ports.size() < n; ++tried, next = next + 1 < below ? next + 1 : lowest)
      take(next);
  }
  while (ports.size() < n) {  // no room below the ephemeral range: let the kernel choose
    const std::size_t before = ports.size();
    take(0);
    if (ports.size() == before) throw std::runtime_error("free_ports: cannot bind 127.0.0.1");
  }
  return ports;
}

}  // namespace dkv::real
