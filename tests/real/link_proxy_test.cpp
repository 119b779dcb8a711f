// The fault proxy (real/proxy/link_proxy.hpp) between a fake sending member
// and a fake receiving member on loopback, both speaking the peer wire
// (net/peer/wire.hpp) by hand. Every wait is for a condition, with a
// deadline; timing is asserted only from below.

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/peer/wire.hpp"
#include "real/proxy/link_proxy.hpp"

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace wire = dkv::net::wire;
using tcp = asio::ip::tcp;
using dkv::real::link_faults;
using dkv::real::link_proxy;
using bytes = std::vector<char>;

namespace {

using clock_type = std::chrono::steady_clock;
const tcp::endpoint loopback_any{asio::ip::address_v4::loopback(), 0};

// Runs the test's own sockets until `done()` holds; false after ten seconds.
// (run_for returns at least every 2 ms, to look at the proxy's counters too.)
template <class Done>
bool wait_until(asio::io_context& io, Done done) {
  const auto deadline = clock_type::now() + 10s;
  while (!done()) {
    if (clock_type::now() >= deadline) return false;
    io.restart();
    io.run_for(2ms);
  }
  return true;
}

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

bytes hello() { return wire::hello(1, 0x1234, "a=127.0.0.1:1,b=127.0.0.1:2"); }

bytes frame(std::uint64_t group, const std::string& body) {
  bytes out(wire::frame_header_bytes + body.size());
  wire::put_u64(out.data(), group);
  wire::put_u64(out.data() + 8, 2);
  wire::put_u32(out.data() + 16, static_cast<std::uint32_t>(body.size()));
  body.copy(out.data() + wire::frame_header_bytes, body.size());
  return out;
}

// One end of a connection: what it has read, and whether it ended (end of
// file, reset or closed).
struct end_point {
  explicit end_point(tcp::socket s) : socket(std::move(s)) {
    socket.set_option(tcp::no_delay(true));  // small writes go at once
    read();
  }
  void read() {
    socket.async_read_some(asio::buffer(chunk), [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        ended = true;
        return;
      }
      received.insert(received.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      read();
    });
  }
  void write(const bytes& b) { asio::write(socket, asio::buffer(b)); }

  tcp::socket socket;
  bytes received;
  bool ended = false;
  std::array<char, 4096> chunk{};
};

// The receiving member: takes every connection the proxy opens.
struct receiver {
  explicit receiver(asio::io_context& io) : acceptor(io, loopback_any) { accept(); }
  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;
      connections.emplace_back(std::move(s));
      accept();
    });
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  tcp::acceptor acceptor;
  std::deque<end_point> connections;  // a deque: the read handlers hold their addresses
};

tcp::socket dial(asio::io_context& io, std::uint16_t port) {
  tcp::socket s(io);
  s.connect({asio::ip::address_v4::loopback(), port});
  return s;
}

// A proxy with link 1->2 in front of a receiver, and a sender dialing it.
// The io_context first: the ends' handlers must not outlive it.
struct rig {
  rig() : sender(dial(io, port)) {}

  asio::io_context io;
  receiver to{io};
  link_proxy proxy{7};
  std::uint16_t port = proxy.add_link(1, 2, to.port());
  end_point sender;

  // The receiver's first connection, once there.
  end_point& accepted() {
    REQUIRE(wait_until(io, [&] { return !to.connections.empty(); }));
    return to.connections.front();
  }
  bool receives(const bytes& expected) {
    return wait_until(
               io,
               [&] { return !to.connections.empty() && to.connections.front().received.size() >= expected.size(); }) &&
           to.connections.front().received == expected;
  }
  template <class Pred>
  bool stats_until(Pred pred) {
    return wait_until(io, [&] { return pred(proxy.stats(1, 2)); });
  }
};

}  // namespace

TEST_CASE("frames pass through in order and byte for byte, however the sender cuts its writes", "[real][proxy]") {
  rig r;
  bytes expected = hello();
  bytes frames;
  for (int i = 0; i < 50; ++i)
    frames = concat({frames, frame(static_cast<std::uint64_t>(i),
                                   std::string(static_cast<std::size_t>(i * 37), char('a' + i % 26)))});
  frames = concat({frames, frame(99, ""), frame(100, std::string(1u << 20, 'z'))});
  const bytes all = concat({expected, frames});
  // The hello and the first frames a byte at a time, the rest at once.
  for (std::size_t i = 0; i < 200; ++i) r.sender.write(bytes{all[i]});
  r.sender.write(bytes(all.begin() + 200, all.end()));
  REQUIRE(r.receives(all));
  REQUIRE(r.stats_until([](const dkv::real::link_stats& s) { return s.forwarded == 52; }));
  const auto s = r.proxy.stats(1, 2);
  CHECK(s.frames == 52);
  CHECK(s.bytes == frames.size());
  CHECK(s.connections == 1);
  CHECK(s.open_connections == 1);
  CHECK(s.dropped + s.duplicated + s.cut == 0);
}

TEST_CASE("a cut link keeps its connection and loses its frames, healed, it carries them again", "[real][proxy]") {
  rig r;
  r.sender.write(hello());
  REQUIRE(r.receives(hello()));
  r.proxy.set_cut(1, 2, true);
  r.sender.write(frame(1, "lost"));
  REQUIRE(r.stats_until([](const auto& s) { return s.cut == 1; }));
  r.proxy.heal();
  r.sender.write(frame(2, "found"));
  REQUIRE(r.receives(concat({hello(), frame(2, "found")})));
  CHECK_FALSE(r.sender.ended);
  CHECK_FALSE(r.accepted().ended);
  CHECK(r.proxy.stats(1, 2).open_connections == 1);
}

TEST_CASE("a connection opened during a cut passes its hello and loses its frames", "[real][proxy]") {
  asio::io_context io;
  receiver to{io};
  link_proxy proxy{7};
  const auto port = proxy.add_link(1, 2, to.port());
  proxy.set_cut(1, 2, true);
  end_point sender(dial(io, port));
  sender.write(concat({hello(), frame(1, "lost")}));
  REQUIRE(wait_until(io, [&] { return proxy.stats(1, 2).cut == 1; }));
  REQUIRE(wait_until(
      io, [&] { return !to.connections.empty() && to.connections.front().received.size() >= hello().size(); }));
  proxy.set_cut(1, 2, false);
  sender.write(frame(2, "found"));
  REQUIRE(wait_until(
      io, [&] { return to.connections.front().received.size() >= hello().size() + frame(2, "found").size(); }));
  CHECK(to.connections.front().received == concat({hello(), frame(2, "found")}));
}

TEST_CASE("a frame on its way when the link is cut is lost on arrival", "[real][proxy]") {
  rig r;
  r.sender.write(hello());  // the hello passes at once, whatever the latency
  REQUIRE(r.receives(hello()));
  r.proxy.set_faults({1'000'000'000, 1'000'000'000, 0, 0});  // 1 s: time enough to cut it on the way
  r.sender.write(frame(1, "in flight"));
  REQUIRE(r.stats_until([](const auto& s) { return s.frames == 1; }));
  r.proxy.set_cut(1, 2, true);
  REQUIRE(r.stats_until([](const auto& s) { return s.cut == 1; }));
  r.proxy.set_faults({});
  r.proxy.set_cut(1, 2, false);
  r.sender.write(frame(2, "after"));
  REQUIRE(r.receives(concat({hello(), frame(2, "after")})));
  CHECK(r.proxy.stats(1, 2).forwarded == 1);
}

TEST_CASE("drop = 1 loses every frame, duplicate = 1 delivers each twice", "[real][proxy]") {
  rig r;
  r.sender.write(hello());
  r.proxy.set_faults({0, 0, 1.0, 0});
  for (int i = 0; i < 10; ++i) r.sender.write(frame(1, "dropped " + std::to_string(i)));
  REQUIRE(r.stats_until([](const auto& s) { return s.dropped == 10; }));
  r.proxy.set_faults({0, 0, 0, 1.0});
  bytes expected = hello();
  for (int i = 0; i < 10; ++i) {
    const bytes f = frame(2, "twice " + std::to_string(i));
    r.sender.write(f);
    expected = concat({expected, f, f});
  }
  REQUIRE(r.receives(expected));  // nothing of the dropped frames in between
  const auto s = r.proxy.stats(1, 2);
  CHECK(s.frames == 20);
  CHECK(s.duplicated == 10);
  CHECK(s.forwarded == 20);
}

TEST_CASE("latency holds frames back, keeps them in order, and a half close follows the last", "[real][proxy]") {
  rig r;
  r.sender.write(hello());
  REQUIRE(r.receives(hello()));

  r.proxy.set_faults({200'000'000, 200'000'000, 0, 0});
  const auto sent = clock_type::now();
  r.sender.write(frame(1, "late"));
  REQUIRE(r.receives(concat({hello(), frame(1, "late")})));
  CHECK(clock_type::now() - sent >= 200ms);

  // Drawn latencies differ, the order stays.
  r.proxy.set_faults({0, 50'000'000, 0, 0});
  bytes expected = concat({hello(), frame(1, "late")});
  for (int i = 0; i < 30; ++i) {
    const bytes f = frame(3, std::to_string(i));
    r.sender.write(f);
    expected = concat({expected, f});
  }
  r.sender.socket.shutdown(tcp::socket::shutdown_send);
  REQUIRE(r.receives(expected));
  REQUIRE(wait_until(r.io, [&] { return r.accepted().ended; }));  // the end of file, after the frames
  CHECK(r.accepted().received == expected);
}

TEST_CASE("the receiver's refusal reaches the sender unchanged, and the ends close in turn", "[real][proxy]") {
  rig r;
  r.sender.write(hello());
  REQUIRE(r.receives(hello()));
  const bytes refusal = wire::encode({7, wire::refusal_reason::other_cluster, 0x9999, "x=127.0.0.1:9"});
  end_point& receiving = r.accepted();
  receiving.write(refusal);
  receiving.socket.shutdown(tcp::socket::shutdown_send);
  REQUIRE(wait_until(r.io, [&] { return r.sender.ended; }));
  CHECK(r.sender.received == refusal);
  // The sender reads the refusal and closes; the proxy passes that on and lets go.
  r.sender.socket.close();
  REQUIRE(wait_until(r.io, [&] { return receiving.ended; }));
  REQUIRE(r.stats_until([](const auto& s) { return s.open_connections == 0; }));
}

TEST_CASE("reset breaks both ends of the link's connections", "[real][proxy]") {
  rig r;
  r.sender.write(hello());
  REQUIRE(r.receives(hello()));
  r.proxy.reset(1, 2);
  REQUIRE(wait_until(r.io, [&] { return r.sender.ended && r.accepted().ended; }));
  CHECK(r.proxy.stats(1, 2).open_connections == 0);
  // The sender dials again, as a peer does.
  end_point again(dial(r.io, r.port));
  again.write(concat({hello(), frame(5, "again")}));
  REQUIRE(wait_until(r.io, [&] {
    return r.to.connections.size() == 2 &&
           r.to.connections[1].received.size() >= hello().size() + frame(5, "again").size();
  }));
  CHECK(r.to.connections[1].received == concat({hello(), frame(5, "again")}));
}

TEST_CASE("a frame header announcing more than the bound closes both ends", "[real][proxy]") {
  rig r;
  bytes huge = frame(1, "");
  wire::put_u32(huge.data() + 16, (256u << 20) + 1);
  r.sender.write(hello());
  REQUIRE(r.receives(hello()));
  r.sender.write(huge);
  REQUIRE(wait_until(r.io, [&] { return r.sender.ended && r.accepted().ended; }));
  CHECK(r.accepted().received == hello());  // not the header: the proxy closes, it does not pass it on
}

TEST_CASE("a receiver that is not there: the sender's connection is closed", "[real][proxy]") {
  asio::io_context io;
  std::uint16_t nobody = 0;
  {
    tcp::acceptor closed_again(io, loopback_any);
    nobody = closed_again.local_endpoint().port();
  }
  link_proxy proxy{7};
  end_point sender(dial(io, proxy.add_link(1, 2, nobody)));
  sender.write(hello());
  REQUIRE(wait_until(io, [&] { return sender.ended; }));
  CHECK(proxy.stats(1, 2).connections == 1);
  CHECK(proxy.stats(1, 2).open_connections == 0);
}

TEST_CASE("stop() returns with connections open and frames held back, and closes them", "[real][proxy]") {
  rig r;
  r.sender.write(hello());
  REQUIRE(r.receives(hello()));  // before the second link's, so that it is the receiver's first connection
  end_point other(dial(r.io, r.proxy.add_link(2, 1, r.to.port())));
  r.proxy.set_faults({10'000'000'000, 10'000'000'000, 0, 0});
  r.sender.write(frame(1, "held back"));
  REQUIRE(r.stats_until([](const auto& s) { return s.frames == 1; }));
  r.proxy.stop();
  REQUIRE(wait_until(r.io, [&] { return r.sender.ended && other.ended && r.accepted().ended; }));
  CHECK(r.accepted().received == hello());
  CHECK(r.proxy.stats(1, 2).frames == 1);  // still answers
  r.proxy.stop();                          // and again is nothing
  CHECK_THROWS_AS(r.proxy.add_link(3, 1, r.to.port()), std::logic_error);
}

TEST_CASE("control calls check their arguments", "[real][proxy]") {
  link_proxy proxy{1};
  proxy.add_link(1, 2, 9);
  CHECK_THROWS_AS(proxy.add_link(1, 2, 9), std::invalid_argument);
  CHECK_THROWS_AS(proxy.set_cut(2, 1, true), std::out_of_range);
  CHECK_THROWS_AS(proxy.stats(3, 1), std::out_of_range);
  CHECK_THROWS_AS(proxy.set_faults({2, 1, 0, 0}), std::invalid_argument);
  CHECK_THROWS_AS(proxy.set_faults({0, 0, 1.5, 0}), std::invalid_argument);
}
