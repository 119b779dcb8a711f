// The simulated network: latency, drops, duplicates, reordering, partitions
// (including messages in flight when a link is cut), and no idle timers.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "sim/testing/toy_cluster.hpp"

using namespace dkv;

namespace {

// Sends `count` one-hop messages from node 1 to node 2 (max_hops 0: no forwarding).
void send_burst(test::toy_cluster& c, std::uint64_t count, sim::node_id from = 1, sim::node_id to = 2) {
  for (std::uint64_t i = 0; i < count; ++i)
    c.sim.network().route(from, to, caf::make_message(test::gossip{from, to, 0, std::to_string(i)}));
}

}  // namespace

TEST_CASE("messages arrive within the latency bounds, and an idle network arms no timer", "[sim][network]") {
  test::toy_cluster c(1, 3, 0);
  c.sim.network().set_faults({.min_latency_ns = 1'000'000, .max_latency_ns = 3'000'000});
  c.sim.run_until(10'000'000);
  send_burst(c, 50);
  c.sim.run_until(100'000'000);
  REQUIRE(c.log.size() == 50);
  for (const auto& d : c.log) {
    REQUIRE(d.time_ns >= 11'000'000);
    REQUIRE(d.time_ns <= 13'000'000);
  }
  REQUIRE(c.sim.network().in_flight() == 0);
  REQUIRE(c.sim.pending_timers() == 0);
  REQUIRE(c.sim.network().stats().delivered == 50);
}

TEST_CASE("latency spread reorders messages", "[sim][network]") {
  test::toy_cluster c(2, 2, 0);
  send_burst(c, 100);
  c.sim.run_until(1'000'000'000);
  REQUIRE(c.log.size() == 100);
  std::vector<int> order;
  for (const auto& d : c.log) order.push_back(std::stoi(d.message.note));
  REQUIRE_FALSE(std::is_sorted(order.begin(), order.end()));
}

TEST_CASE("drops and duplicates follow their probabilities", "[sim][network]") {
  test::toy_cluster c(3, 2, 0);
  c.sim.network().set_faults({.drop = 0.2, .duplicate = 0.1});
  send_burst(c, 2000);
  c.sim.run_until(1'000'000'000);
  const auto& s = c.sim.network().stats();
  REQUIRE(s.dropped > 300);
  REQUIRE(s.dropped < 500);
  REQUIRE(s.duplicated > 100);
  REQUIRE(s.duplicated < 230);
  REQUIRE(c.log.size() == 2000 - s.dropped + s.duplicated);
}

TEST_CASE("per-link faults override the default", "[sim][network]") {
  test::toy_cluster c(4, 3, 0);
  c.sim.network().set_link_faults(1, 2, {.drop = 1.0});
  send_burst(c, 20, 1, 2);
  send_burst(c, 20, 1, 3);
  c.sim.run_until(1'000'000'000);
  REQUIRE(c.log.size() == 20);
  for (const auto& d : c.log) REQUIRE(d.message.to == 3);
}

TEST_CASE("a partition stops traffic, including messages already in flight", "[sim][network]") {
  test::toy_cluster c(5, 3, 0);
  c.sim.network().set_faults({.min_latency_ns = 10'000'000, .max_latency_ns = 10'000'000});
  send_burst(c, 10, 1, 2);
  c.sim.at(5'000'000, "cut 1->2", [&] { c.sim.network().cuts().cut_one_way(1, 2); });
  c.sim.run_until(50'000'000);
  REQUIRE(c.log.empty());
  REQUIRE(c.sim.network().stats().cut == 10);

  send_burst(c, 5, 2, 1);  // the other direction still works
  send_burst(c, 5, 1, 2);  // refused at send
  c.sim.run_until(100'000'000);
  REQUIRE(c.log.size() == 5);
  REQUIRE(c.sim.network().stats().cut == 15);

  c.sim.network().cuts().heal();
  send_burst(c, 5, 1, 2);
  c.sim.run_until(150'000'000);
  REQUIRE(c.log.size() == 10);
}

TEST_CASE("messages to unknown endpoints or of unregistered types are not delivered", "[sim][network]") {
  test::toy_cluster c(6, 2, 0);
  c.sim.network().route(sim::node_id{1}, sim::node_id{99}, caf::make_message(test::gossip{1, 99, 0, "nobody"}));
  c.sim.network().route(sim::node_id{1}, sim::node_id{2},
                        caf::make_message(std::vector<std::vector<std::vector<double>>>{}));
  c.sim.run_until(10'000'000);
  REQUIRE(c.log.empty());
  REQUIRE(c.sim.network().stats().unroutable == 2);
}

TEST_CASE("a message's latency and fate depend on its link and instant, not on other traffic", "[sim][network]") {
  // What a shrinker relies on: a run with some messages removed keeps the
  // draws of those still sent when they were.
  const auto arrivals = [](bool other_traffic) {
    test::toy_cluster c(4, 3, 0);
    c.sim.network().set_faults({.min_latency_ns = 1'000'000, .max_latency_ns = 9'000'000, .drop = 0.1});
    if (other_traffic) {
      send_burst(c, 30, 3, 2);  // another link, the same instant
      c.sim.run_until(5'000'000);
      for (int i = 0; i < 30; ++i)  // the same link, an earlier instant
        c.sim.network().route(1, 2, caf::make_message(test::gossip{1, 2, 0, "early"}));
    }
    c.sim.run_until(10'000'000);
    send_burst(c, 50, 1, 2);
    c.sim.run_until(100'000'000);
    std::vector<std::pair<std::uint64_t, std::string>> seen;
    for (const auto& d : c.log)
      if (d.message.from == 1 && d.message.note != "early") seen.emplace_back(d.time_ns, d.message.note);
    return seen;
  };
  const auto alone = arrivals(false);
  CHECK(alone.size() > 35);  // some dropped, the rest arrived
  CHECK(alone.size() < 50);
  CHECK(arrivals(true) == alone);
}
