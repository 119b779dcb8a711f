// peer_network's wire (net/peer/wire.hpp) as a stranger speaks it: a raw
// socket writes hellos and frames by hand. A bad hello and an oversized
// frame close the connection; a frame that does not decode is dropped alone.

#include <catch2/catch.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <caf/binary_serializer.hpp>
#include <caf/scoped_actor.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "net/peer/peer_network.hpp"
#include "net/peer/wire.hpp"
#include "tests/net/peer/peer_test_support.hpp"

using namespace dkv;
using namespace dkv::net;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A blocking socket to a network's port whose reads give up after five seconds.
struct raw_peer {
  explicit raw_peer(std::uint16_t port) : socket(io) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval five{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  }
  void write(const std::vector<char>& bytes) { asio::write(socket, asio::buffer(bytes)); }
  // True once the other end closed the connection (rather than a timeout);
  // what it wrote before (a refusal) is passed over.
  bool closed_by_peer() {
    char bytes[256];
    boost::system::error_code ec;
    while (!ec) socket.read_some(asio::buffer(bytes), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  asio::io_context io;
  tcp::socket socket;
};

// The hello of a member of the default cluster (testing::options_for gives no identity).
std::vector<char> hello(std::uint64_t member) { return wire::hello(member, 0, ""); }

std::vector<char> frame(std::uint64_t group, std::uint64_t to, const std::string& body) {
  std::vector<char> bytes(wire::frame_header_bytes + body.size());
  wire::put_frame_header(bytes.data(), {group, to, static_cast<std::uint32_t>(body.size())});
  std::copy(body.begin(), body.end(), bytes.begin() + wire::frame_header_bytes);
  return bytes;
}

std::string serialized(caf::actor_system& system, caf::message message) {
  std::vector<char> bytes;
  caf::binary_serializer sink{system, bytes};
  REQUIRE_FALSE(sink(message));
  return {bytes.begin(), bytes.end()};
}

struct listening_member {
  listening_member() : ports(real::free_ports(2)) {
    peer_network_options o = testing::options_for(1, ports);
    o.max_frame_bytes = 1024;
    net.emplace(*sys.system, o);
    REQUIRE(net->start().ok());
    inbox.emplace(*sys.system);
    net->attach(3, 1, testing::handle_of(*inbox));
  }
  testing::threaded_system sys;
  std::vector<std::uint16_t> ports;
  std::optional<peer_network> net;
  std::optional<caf::scoped_actor> inbox;
};

}  // namespace

TEST_CASE("the wire's integers are little-endian", "[net][peer][wire]") {
  char bytes[wire::frame_header_bytes];
  wire::put_frame_header(bytes, {0x0102030405060708, 9, 0x0a0b0c0d});
  CHECK(bytes[0] == 0x08);
  CHECK(bytes[7] == 0x01);
  CHECK(bytes[16] == 0x0d);
  const wire::frame_header h = wire::get_frame_header(bytes);
  CHECK(h.group == 0x0102030405060708);
  CHECK(h.to == 9);
  CHECK(h.length == 0x0a0b0c0d);
  const std::vector<char> greeting = wire::hello(2, 0x0102030405060708, "node-1=h:1");
  CHECK(std::string(greeting.data(), 4) == "dkvp");
  CHECK(greeting[4] == 2);  // the version
  CHECK(greeting[16] == 0x08);
  CHECK(greeting.size() == wire::hello_bytes + 10);
  CHECK(std::string(greeting.data() + wire::hello_bytes, 10) == "node-1=h:1");
}

TEST_CASE("a hand-written frame reaches its actor", "[net][peer][wire]") {
  listening_member m;
  raw_peer peer{m.ports[0]};
  peer.write(hello(2));
  peer.write(frame(3, 1, serialized(*m.sys.system, caf::make_message(actors::raft_packet{"by hand"}))));
  const auto got = testing::receive_within<actors::raft_packet>(*m.inbox, 5s);
  REQUIRE(got);
  CHECK(got->bytes == "by hand");
}

TEST_CASE("a connection from a member not in the configuration is closed", "[net][peer][wire]") {
  listening_member m;
  raw_peer stranger{m.ports[0]};
  stranger.write(hello(99));
  CHECK(stranger.closed_by_peer());
  CHECK(m.net->stats().rejected == 1);

  raw_peer impostor{m.ports[0]};  // itself: no member writes to itself
  impostor.write(hello(1));
  CHECK(impostor.closed_by_peer());
  raw_peer garbage{m.ports[0]};
  garbage.write(std::vector<char>(wire::hello_prefix_bytes, 'x'));
  CHECK(garbage.closed_by_peer());
  CHECK(m.net->stats().rejected == 3);
}

TEST_CASE("a frame over max_frame_bytes closes the connection", "[net][peer][wire]") {
  listening_member m;
  raw_peer peer{m.ports[0]};
  peer.write(hello(2));
  std::vector<char> header(wire::frame_header_bytes);
  wire::put_frame_header(header.data(), {3, 1, 1025});
  peer.write(header);
  CHECK(peer.closed_by_peer());
  CHECK(m.net->stats().undecodable == 1);
}

TEST_CASE("a frame that does not decode is dropped, and the next one still arrives", "[net][peer][wire]") {
  listening_member m;
  raw_peer peer{m.ports[0]};
  peer.write(hello(2));
  peer.write(frame(3, 1, "certainly not a caf::message"));
  peer.write(frame(3, 1, ""));
  peer.write(frame(3, 1, serialized(*m.sys.system, caf::make_message(actors::raft_packet{"still here"}))));
  const auto got = testing::receive_within<actors::raft_packet>(*m.inbox, 5s);
  REQUIRE(got);
  CHECK(got->bytes == "still here");
  CHECK(m.net->stats().undecodable == 2);
  CHECK(m.net->stats().received == 1);
}
