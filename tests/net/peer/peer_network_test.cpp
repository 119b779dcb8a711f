// peer_network between networks in one process, over loopback: messages
// both ways, local delivery, what is dropped and counted, a busy port, and
// a peer that goes away and comes back.

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <memory>
#include <string>

#include "net/peer/peer_network.hpp"
#include "tests/net/peer/peer_test_support.hpp"

using namespace dkv;
using namespace dkv::net;
using namespace std::chrono_literals;
using actors::propose_command;
using actors::raft_packet;
using testing::receive_within;

namespace {

constexpr std::uint64_t group = 7;

// Two started networks, members 1 and 2, each with an inbox (a scoped
// actor) attached as raft node k and as member k's client in `group`.
struct two_members {
  two_members() : ports(real::free_ports(2)) {
    for (std::uint64_t k : {1, 2}) {
      net[k - 1] = std::make_unique<peer_network>(*sys.system, testing::options_for(k, ports));
      inbox[k - 1].emplace(*sys.system);
      REQUIRE(net[k - 1]->start().ok());
      net[k - 1]->attach(group, k, testing::handle_of(*inbox[k - 1]));
      net[k - 1]->attach(group, client_address(k), testing::handle_of(*inbox[k - 1]));
    }
  }
  ~two_members() {
    for (auto& n : net) n.reset();
    for (auto& i : inbox) i.reset();
  }
  peer_network& at(std::uint64_t k) { return *net[k - 1]; }
  caf::scoped_actor& inbox_of(std::uint64_t k) { return *inbox[k - 1]; }

  testing::threaded_system sys;
  std::vector<std::uint16_t> ports;
  std::unique_ptr<peer_network> net[2];
  std::optional<caf::scoped_actor> inbox[2];
};

// Raft's way: sends `bytes` to member 2 again and again until `inbox` gets
// it, for at most ten seconds.
std::optional<raft_packet> send_until_through(actors::transport& to, caf::scoped_actor& inbox,
                                              const std::string& bytes) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    to.send(2, caf::make_message(raft_packet{bytes}));
    if (std::optional<raft_packet> got = receive_within<raft_packet>(inbox, 20ms)) return got;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("member_of reads the member from raft and client addresses", "[net][peer]") {
  CHECK(member_of(3) == 3);
  CHECK(member_of(client_address(3)) == 3);
  CHECK(member_of(client_address(1)) == 1);
  CHECK(client_address(2) == (std::uint64_t{1} << 32) + 2);
}

TEST_CASE("two peer_networks exchange raft packets and proposals both ways", "[net][peer]") {
  two_members m;
  // Sent as caf::message, received as the typed message itself: the
  // network neither wraps it nor loses its type on the way.
  m.at(1).transport(group)->send(2, caf::make_message(raft_packet{"from 1"}));
  m.at(2).transport(group)->send(1, caf::make_message(raft_packet{"from 2"}));
  m.at(1).transport(group)->send(client_address(2),
                                 caf::make_message(propose_command{client_address(1), 41, "set a", false}));
  m.at(2).transport(group)->send(client_address(1),
                                 caf::make_message(propose_command{client_address(2), 42, "set b", true}));

  const auto at_2 = receive_within<raft_packet>(m.inbox_of(2), 5s);
  const auto at_1 = receive_within<raft_packet>(m.inbox_of(1), 5s);
  REQUIRE(at_2);
  REQUIRE(at_1);
  CHECK(at_2->bytes == "from 1");
  CHECK(at_1->bytes == "from 2");
  const auto proposal_at_2 = receive_within<propose_command>(m.inbox_of(2), 5s);
  const auto proposal_at_1 = receive_within<propose_command>(m.inbox_of(1), 5s);
  REQUIRE(proposal_at_2);
  REQUIRE(proposal_at_1);
  CHECK(proposal_at_2->client == client_address(1));
  CHECK(proposal_at_2->request == 41);
  CHECK(proposal_at_2->command == "set a");
  CHECK_FALSE(proposal_at_2->forwarded);
  CHECK(proposal_at_1->request == 42);
  CHECK(proposal_at_1->forwarded);

  for (std::uint64_t k : {1, 2}) {
    const auto s = m.at(k).stats();
    CHECK(s.received == 2);
    CHECK(s.connects == 1);
    CHECK(s.dropped == 0);
    CHECK(s.undecodable == 0);
  }
}

TEST_CASE("a local address is delivered without the wire", "[net][peer]") {
  two_members m;
  m.at(1).transport(group)->send(client_address(1), caf::make_message(raft_packet{"to myself"}));
  const auto got = receive_within<raft_packet>(m.inbox_of(1), 5s);
  REQUIRE(got);
  CHECK(got->bytes == "to myself");
  CHECK(m.at(1).stats().sent == 1);
  CHECK(m.at(1).stats().connects == 0);
}

TEST_CASE("messages for unknown destinations are dropped and counted", "[net][peer]") {
  two_members m;
  auto transport = m.at(1).transport(group);
  transport->send(5, caf::make_message(raft_packet{"no member 5"}));
  CHECK(m.at(1).stats().dropped == 1);
  m.at(1).transport(group)->send((std::uint64_t{5} << 32) + 1,
                                 caf::make_message(raft_packet{"nobody here at member 1"}));
  CHECK(m.at(1).stats().dropped == 2);

  // Member 2 knows no group 8; a marker behind it on the same connection
  // shows it has been dealt with.
  m.at(1).transport(8)->send(2, caf::make_message(raft_packet{"no group 8 at member 2"}));
  transport->send(2, caf::make_message(raft_packet{"marker"}));
  const auto marker = receive_within<raft_packet>(m.inbox_of(2), 5s);
  REQUIRE(marker);
  CHECK(marker->bytes == "marker");
  CHECK(m.at(2).stats().dropped == 1);
  CHECK(m.at(2).stats().received == 1);
}

TEST_CASE("a busy port gives start() a clear error", "[net][peer]") {
  two_members m;
  peer_network second{*m.sys.system, testing::options_for(1, m.ports)};
  const error e = second.start();
  CHECK_FALSE(e.ok());
  CHECK_THAT(e.message(), Catch::Matchers::Contains("127.0.0.1:" + std::to_string(m.ports[0])) &&
                              Catch::Matchers::Contains("Address already in use"));
  CHECK_FALSE(m.at(1).start().ok());  // once only

  peer_network stray{*m.sys.system, testing::options_for(3, m.ports)};
  CHECK_THAT(stray.start().message(), Catch::Matchers::Contains("self (3) is not among the members"));
}

TEST_CASE("a network listening on port 0 tells the port it got", "[net][peer]") {
  testing::threaded_system sys;
  peer_network_options o;
  o.self = 1;
  o.members[1] = {"127.0.0.1", 0};
  peer_network n{*sys.system, o};
  REQUIRE(n.start().ok());
  CHECK(n.bound_port() != 0);
  n.stop();
  n.stop();  // idempotent
}

TEST_CASE("messages flow again once a peer that went away is back", "[net][peer]") {
  two_members m;
  auto transport = m.at(1).transport(group);
  transport->send(2, caf::make_message(raft_packet{"before"}));
  REQUIRE(receive_within<raft_packet>(m.inbox_of(2), 5s));

  m.net[1].reset();  // member 2 goes away
  m.inbox[1].reset();
  // Sends while it is away are lost, never blocking.
  for (int i = 0; i < 100; ++i) transport->send(2, caf::make_message(raft_packet{"into the void"}));

  peer_network back{*m.sys.system, testing::options_for(2, m.ports)};
  caf::scoped_actor inbox{*m.sys.system};
  REQUIRE(back.start().ok());
  back.attach(group, 2, testing::handle_of(inbox));
  const std::optional<raft_packet> got = send_until_through(*transport, inbox, "after");
  REQUIRE(got);
  CHECK(got->bytes == "after");
  const auto s = m.at(1).stats();
  CHECK(s.connects >= 2);
}

// A link down for a long backoff does not wait it out when the peer shows
// itself: its connection to us says it is back (a restarted server is heard
// from at once, not after reconnect_max).
TEST_CASE("a link waiting out its backoff connects at once when that peer connects to us", "[net][peer]") {
  testing::threaded_system sys;
  const std::vector<std::uint16_t> ports = real::free_ports(2);
  peer_network_options patient = testing::options_for(1, ports);
  patient.reconnect_min = patient.reconnect_max = 60s;  // one failed connect: a minute's backoff
  peer_network one{*sys.system, patient};
  caf::scoped_actor inbox_one{*sys.system};
  REQUIRE(one.start().ok());
  one.attach(group, 1, testing::handle_of(inbox_one));
  auto to_two = one.transport(group);
  to_two->send(2, caf::make_message(raft_packet{"into the void"}));  // member 2 is not there: the link goes down
  const auto failed_by = std::chrono::steady_clock::now() + 10s;
  while (one.stats().dropped == 0 && std::chrono::steady_clock::now() < failed_by)
    receive_within<raft_packet>(inbox_one, 20ms);  // polling the counter: the failed connect drops the frame
  REQUIRE(one.stats().dropped > 0);

  peer_network two{*sys.system, testing::options_for(2, ports)};
  caf::scoped_actor inbox_two{*sys.system};
  REQUIRE(two.start().ok());
  two.attach(group, 2, testing::handle_of(inbox_two));
  two.transport(group)->send(1, caf::make_message(raft_packet{"I am back"}));
  REQUIRE(receive_within<raft_packet>(inbox_one, 5s));
  // Member 1 may dial again now, long before its minute is up.
  const std::optional<raft_packet> got = send_until_through(*to_two, inbox_two, "welcome back");
  REQUIRE(got);
  CHECK(got->bytes == "welcome back");
}

// Not run by default (`net_peer_tests [bench]`): raft packets of 100 bytes
// from two threads of member 1 to an actor of member 2, over loopback.
TEST_CASE("throughput over loopback", "[.][bench][net][peer]") {
  constexpr int per_thread = 200'000;
  constexpr int total = 2 * per_thread;
  std::promise<void> all_arrived;  // before the system: the counter refers to it
  two_members m;
  const caf::actor counter = m.sys.system->spawn([&all_arrived](caf::event_based_actor*) -> caf::behavior {
    return {[&all_arrived, n = 0](const raft_packet&) mutable {
      if (++n == total) all_arrived.set_value();
    }};
  });
  m.at(2).attach(group, 2, counter);
  auto transport = m.at(1).transport(group);
  const caf::message packet = caf::make_message(raft_packet{std::string(100, 'x')});
  const auto start = std::chrono::steady_clock::now();
  std::thread second{[&] {
    for (int i = 0; i < per_thread; ++i) transport->send(2, packet);
  }};
  for (int i = 0; i < per_thread; ++i) transport->send(2, packet);
  second.join();
  const bool arrived = all_arrived.get_future().wait_for(30s) == std::future_status::ready;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto s = m.at(1).stats();
  WARN("sent " << s.sent << ", dropped " << s.dropped << ", received " << m.at(2).stats().received << " in " << seconds
               << " s: " << static_cast<double>(m.at(2).stats().received) / seconds << " messages/s");
  CHECK(arrived);
  caf::anon_send_exit(counter, caf::exit_reason::user_shutdown);
}
