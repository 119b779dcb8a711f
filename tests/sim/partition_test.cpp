// Partition shapes and the per-node clock.

#include <catch2/catch.hpp>

#include "sim/network/partition.hpp"
#include "sim/simulator/node_clock.hpp"

using dkv::sim::partition;

TEST_CASE("partitions: groups, one-way, isolation, bridge, heal", "[sim]") {
  partition p;
  REQUIRE(p.whole());
  p.split({{1}, {2, 3}});
  REQUIRE(p.blocked(1, 2));
  REQUIRE(p.blocked(3, 1));
  REQUIRE_FALSE(p.blocked(2, 3));
  p.heal();
  REQUIRE(p.describe() == "whole");

  p.cut_one_way(1, 2);
  REQUIRE(p.blocked(1, 2));
  REQUIRE_FALSE(p.blocked(2, 1));
  p.heal();

  p.isolate(2, {1, 2, 3});
  REQUIRE(p.describe() == "1->2 2->1 2->3 3->2");
  p.heal();

  p.bridge(3, {1, 2}, {4, 5});
  REQUIRE(p.blocked(1, 4));
  REQUIRE(p.blocked(5, 2));
  REQUIRE_FALSE(p.blocked(1, 3));
  REQUIRE_FALSE(p.blocked(3, 5));
  REQUIRE_FALSE(p.blocked(4, 3));
  REQUIRE_FALSE(p.blocked(1, 2));
}

TEST_CASE("node clocks drift and skew", "[sim]") {
  dkv::sim::node_clock exact;
  REQUIRE(exact.local_now(5'000'000) == 5'000'000);
  REQUIRE(exact.true_delay(1'000) == 1'000);

  dkv::sim::node_clock fast{.skew_ns = 1'000, .drift_ppm = 100'000};  // 10% fast, 1 µs ahead
  REQUIRE(fast.local_now(10'000'000) == 11'001'000);
  REQUIRE(fast.true_delay(1'100'000) == 1'000'000);  // its 1.1 ms timer fires after 1 ms

  dkv::sim::node_clock behind{.skew_ns = -5'000, .drift_ppm = -500'000};
  REQUIRE(behind.local_now(1'000) == 0);  // never negative
  REQUIRE(behind.true_delay(1'000'000) == 2'000'000);
}
