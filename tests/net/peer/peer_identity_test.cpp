// Cluster identity on the peer wire (net/peer/cluster_identity.hpp): two
// networks given different member lists, or different tokens, refuse each
// other in both directions, deliver nothing, and both say so — once per
// source however often the links reconnect. An older peer's hello
// (version 1) is refused with a refusal that names the versions, and a peer
// that closes every connection at once without a word is reported too.

#include <catch2/catch.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/peer/peer_network.hpp"
#include "net/peer/report_limit.hpp"
#include "net/peer/wire.hpp"
#include "tests/net/peer/peer_test_support.hpp"

using namespace dkv;
using namespace dkv::net;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint64_t group = 7;

// What a network reported, from whichever thread.
struct reports {
  std::mutex mutex;
  std::vector<std::pair<report_level, std::string>> lines;

  report_sink sink() {
    return [this](report_level level, const std::string& text) {
      std::lock_guard lock{mutex};
      lines.emplace_back(level, text);
    };
  }
  // How many lines of `level` contain every one of `parts`.
  std::size_t count(const std::vector<std::string>& parts, report_level level = report_level::error) {
    std::lock_guard lock{mutex};
    return std::count_if(lines.begin(), lines.end(), [&](const auto& line) {
      return line.first == level && std::all_of(parts.begin(), parts.end(), [&](const std::string& p) {
               return line.second.find(p) != std::string::npos;
             });
    });
  }
  std::string all() {
    std::lock_guard lock{mutex};
    std::string text;
    for (const auto& [level, line] : lines) text += line + "\n";
    return text;
  }
};

std::string at(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// Members 1 and 2 on `ports`, each with its own identity; links retry fast,
// so that a test sees several reconnections in well under a second.
struct two_clusters {
  two_clusters(const std::vector<std::uint16_t>& p, cluster_identity first, cluster_identity second) : ports(p) {
    cluster_identity identities[2] = {std::move(first), std::move(second)};
    for (std::uint64_t k : {1, 2}) {
      peer_network_options o = testing::options_for(k, ports);
      o.identity = identities[k - 1];
      o.report = said[k - 1].sink();
      o.reconnect_min = 5ms;
      o.reconnect_max = 20ms;
      net[k - 1] = std::make_unique<peer_network>(*sys.system, o);
      inbox[k - 1].emplace(*sys.system);
      REQUIRE(net[k - 1]->start().ok());
      net[k - 1]->attach(group, k, testing::handle_of(*inbox[k - 1]));
    }
  }
  ~two_clusters() {
    for (auto& n : net) n.reset();
    for (auto& i : inbox) i.reset();
  }
  peer_network& at(std::uint64_t k) { return *net[k - 1]; }

  // Both send to each other until each has refused `n` connections (or ten seconds pass).
  void exchange_until_refused(std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((at(1).stats().rejected < n || at(2).stats().rejected < n) && std::chrono::steady_clock::now() < deadline) {
      at(1).transport(group)->send(2, caf::make_message(actors::raft_packet{"from 1"}));
      at(2).transport(group)->send(1, caf::make_message(actors::raft_packet{"from 2"}));
      // Waiting for a message that must not come paces the loop.
      REQUIRE_FALSE(testing::receive_within<actors::raft_packet>(*inbox[0], 2ms));
    }
  }

  testing::threaded_system sys;
  std::vector<std::uint16_t> ports;
  reports said[2];
  std::unique_ptr<peer_network> net[2];
  std::optional<caf::scoped_actor> inbox[2];
};

}  // namespace

TEST_CASE("the cluster id covers the order of the members and the token", "[net][peer][identity]") {
  const cluster_identity one = make_cluster_identity("a=h:1,b=h:2", "");
  CHECK(one.id == make_cluster_identity("a=h:1,b=h:2", "").id);
  CHECK(one.members == "a=h:1,b=h:2");
  CHECK(one.id != make_cluster_identity("b=h:2,a=h:1", "").id);
  CHECK(one.id != make_cluster_identity("a=h:1", "").id);
  CHECK(one.id != make_cluster_identity("a=h:1,b=h:2", "prod").id);
  // Lengths are part of what is hashed: text cannot move from list to token.
  CHECK(make_cluster_identity("a=h:1,b=h:2", "x").id != make_cluster_identity("a=h:1,b=h:2x", "").id);
  CHECK(id_text(0x1a2b) == "0000000000001a2b");
  CHECK(member_entry("a=h:1,b=h:2", 2) == "b=h:2");
  CHECK(member_entry("a=h:1,b=h:2", 3).empty());
  CHECK(lists_entry("a=h:1,b=h:2", "b=h:2"));
  CHECK(lists_entry("a=h:1,b=h:2", "a=h:1"));
  CHECK_FALSE(lists_entry("a=h:1,b=h:2", "b=h:1"));
  CHECK_FALSE(lists_entry("a=h:1,b=h:22", "b=h:2"));  // whole items only
  CHECK_FALSE(lists_entry("a=h:1", ""));
}

TEST_CASE("a complaint is said once per source, and again after a while with how often it was held back",
          "[net][peer][identity]") {
  report_limit limit;
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  std::uint64_t held_back = 99;
  CHECK(limit.admit("a", t0, held_back));
  CHECK(held_back == 0);
  CHECK_FALSE(limit.admit("a", t0 + 1s, held_back));
  CHECK_FALSE(limit.admit("a", t0 + 2s, held_back));
  CHECK(limit.admit("b", t0 + 2s, held_back));  // another source
  CHECK(limit.admit("a", t0 + report_limit::again_after, held_back));
  CHECK(held_back == 2);
  CHECK_FALSE(limit.admit("a", t0 + report_limit::again_after + 1s, held_back));
}

TEST_CASE("members listed in another order refuse each other both ways, each saying so once", "[net][peer][identity]") {
  const std::vector<std::uint16_t> ports = real::free_ports(2);
  const std::string ours = "node-1=" + at(ports[0]) + ",node-2=" + at(ports[1]);
  const std::string theirs = "node-2=" + at(ports[1]) + ",node-1=" + at(ports[0]);
  two_clusters c{ports, make_cluster_identity(ours, ""), make_cluster_identity(theirs, "")};
  c.exchange_until_refused(3);
  INFO(c.said[0].all() << "---\n" << c.said[1].all());
  REQUIRE(c.at(1).stats().rejected >= 3);  // the links reconnected: the reports below held back the rest
  REQUIRE(c.at(2).stats().rejected >= 3);
  CHECK(c.at(1).stats().received == 0);
  CHECK(c.at(2).stats().received == 0);

  const std::string difference_at_1 = "belongs to another cluster: its members are '" + theirs + "', ours are '" + ours;
  const std::string difference_at_2 = "belongs to another cluster: its members are '" + ours + "', ours are '" + theirs;
  // Member 1, as receiver and as sender; member 2 names member 1 by its own list.
  CHECK(c.said[0].count({"peers on " + at(ports[0]) + ": refused a connection from 127.0.0.1 claiming to be member 2",
                         difference_at_1}) == 1);
  CHECK(c.said[0].count({"peer node-2=" + at(ports[1]) + " (member 2) refused our connection", difference_at_1}) == 1);
  CHECK(c.said[1].count({"peers on " + at(ports[1]) + ": refused a connection from 127.0.0.1 claiming to be member 1",
                         difference_at_2}) == 1);
  CHECK(c.said[1].count({"refused our connection", difference_at_2}) == 1);
}

TEST_CASE("the same members with another token refuse each other, naming the token", "[net][peer][identity]") {
  const std::vector<std::uint16_t> ports = real::free_ports(2);
  const std::string members = "node-1=" + at(ports[0]) + ",node-2=" + at(ports[1]);
  two_clusters c{ports, make_cluster_identity(members, ""), make_cluster_identity(members, "staging")};
  c.exchange_until_refused(3);
  INFO(c.said[0].all() << "---\n" << c.said[1].all());
  const std::string why = "its members are ours ('" + members + "') but its --cluster-token differs";
  CHECK(c.said[0].count({"refused a connection", why}) == 1);
  CHECK(c.said[0].count({"refused our connection", why}) == 1);
  CHECK(c.said[1].count({"refused a connection", why}) == 1);
  CHECK(c.said[1].count({"refused our connection", why}) == 1);
  CHECK(c.at(1).stats().received == 0);
  CHECK(c.at(2).stats().received == 0);
}

TEST_CASE("a version 1 hello is refused, and the refusal names the versions", "[net][peer][identity]") {
  testing::threaded_system sys;
  const std::vector<std::uint16_t> ports = real::free_ports(2);
  reports said;
  peer_network_options o = testing::options_for(1, ports);
  o.identity = make_cluster_identity("node-1=" + at(ports[0]) + ",node-2=" + at(ports[1]), "");
  o.report = said.sink();
  peer_network net{*sys.system, o};
  REQUIRE(net.start().ok());

  asio::io_context io;
  tcp::socket old{io};
  old.connect({asio::ip::make_address("127.0.0.1"), ports[0]});
  timeval five{5, 0};
  ::setsockopt(old.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  std::vector<char> v1(wire::hello_prefix_bytes);  // version 1's whole hello
  wire::put_u32(v1.data(), wire::magic);
  wire::put_u32(v1.data() + 4, 1);
  wire::put_u64(v1.data() + 8, 2);
  asio::write(old, asio::buffer(v1));
  std::vector<char> reply;
  boost::system::error_code ec;
  for (char bytes[256]; !ec;) reply.insert(reply.end(), bytes, bytes + old.read_some(asio::buffer(bytes), ec));
  CHECK(ec == asio::error::eof);  // a refusal, then an orderly end

  const wire::refusal_read refusal = wire::decode_refusal(reply.data(), reply.size());
  REQUIRE(refusal.complete);
  CHECK(refusal.value.reason == wire::refusal_reason::version);
  CHECK(refusal.value.version == 2);
  CHECK(refusal.value.cluster_id == o.identity.id);
  CHECK(net.stats().rejected == 1);
  INFO(said.all());
  CHECK(said.count({"refused a connection from 127.0.0.1 claiming to be member 2: it speaks peer wire version 1, "
                    "this dkv speaks version 2 (an older dkv)"}) == 1);
}

TEST_CASE("a peer that closes every connection at once without a word is reported", "[net][peer][identity]") {
  testing::threaded_system sys;
  const std::vector<std::uint16_t> ports = real::free_ports(2);
  reports said;
  peer_network_options o = testing::options_for(1, ports);
  o.report = said.sink();
  o.reconnect_min = 5ms;
  o.reconnect_max = 20ms;
  peer_network net{*sys.system, o};
  REQUIRE(net.start().ok());
  // Member 2 is a listener that closes what it accepts, as a dkv of
  // version 1 does with a hello it does not understand.
  asio::io_context io;
  tcp::acceptor silent{io, {asio::ip::make_address("127.0.0.1"), ports[1]}};
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int closed = 0;
  while (said.count({"closed our last 3 connections right after our hello without a reason"}, report_level::warn) ==
             0 &&
         std::chrono::steady_clock::now() < deadline) {
    net.transport(group)->send(2, caf::make_message(actors::raft_packet{"anyone?"}));
    pollfd ready{silent.native_handle(), POLLIN, 0};
    if (::poll(&ready, 1, 10) == 1) {
      tcp::socket accepted = silent.accept();
      accepted.close();
      ++closed;
    }
  }
  INFO(said.all());
  CHECK(closed >= 3);
  CHECK(said.count({"peer member 2 at " + at(ports[1]), "it may run an older dkv"}, report_level::warn) == 1);
}
