// The simulator loop: scheduled actions, seeded interleavings, and a trace
// hash that is the same for a seed in this process and in others.

#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>

#include "sim/simulator/instant_random.hpp"
#include "sim/testing/toy_cluster.hpp"

using namespace dkv;

namespace {

struct run_summary {
  std::uint64_t hash;
  std::size_t deliveries;
  friend bool operator==(const run_summary&, const run_summary&) = default;
};

run_summary run_toy(std::uint64_t seed) {
  test::toy_cluster c(seed, 5, 200);
  c.sim.network().set_faults({.min_latency_ns = 100'000, .max_latency_ns = 5'000'000, .drop = 0.05, .duplicate = 0.05});
  for (int i = 0; i < 4; ++i) c.start(static_cast<sim::node_id>(1 + i), "rumour " + std::to_string(i));
  c.sim.at(200'000'000, "split 1,2 | 3,4,5", [&] { c.sim.network().cuts().split({{1, 2}, {3, 4, 5}}); });
  c.sim.at(600'000'000, "heal", [&] { c.sim.network().cuts().heal(); });
  c.sim.run_until(2'000'000'000);
  return {c.sim.trace().value(), c.log.size()};
}

run_summary run_in_another_process(std::uint64_t seed) {
  const std::string command = std::string(DKV_TRACE_PROBE) + " " + std::to_string(seed);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  REQUIRE(pipe);
  unsigned long long hash = 0;
  std::size_t deliveries = 0;
  REQUIRE(std::fscanf(pipe.get(), "%llx %zu", &hash, &deliveries) == 2);
  return {hash, deliveries};
}

}  // namespace

TEST_CASE("actions run at their time, in order, before timers due then", "[sim]") {
  sim::simulator s(1);
  std::vector<std::string> seen;
  s.at(30, "c", [&] { seen.push_back("c@" + std::to_string(s.now_ns())); });
  s.at(10, "a", [&] { seen.push_back("a@" + std::to_string(s.now_ns())); });
  s.at(10, "b", [&] { seen.push_back("b@" + std::to_string(s.now_ns())); });
  s.run_until(20);
  REQUIRE(seen == std::vector<std::string>{"a@10", "b@10"});
  REQUIRE(s.now_ns() == 20);
  s.run_until(100);
  REQUIRE(seen.back() == "c@30");
  REQUIRE(s.now_ns() == 100);
}

TEST_CASE("run_until stops as soon as the condition holds", "[sim]") {
  test::toy_cluster c(9, 3, 1000);
  c.start(1, "x");
  REQUIRE(c.sim.run_until([&] { return c.log.size() >= 10; }, 10'000'000'000));
  REQUIRE(c.log.size() == 10);
  REQUIRE_FALSE(c.sim.run_until([] { return false; }, c.sim.now_ns() + 1'000'000));
}

TEST_CASE("the same seed gives the same run, another seed another", "[sim][determinism]") {
  const run_summary first = run_toy(42);
  REQUIRE(first.deliveries > 100);
  REQUIRE(run_toy(42) == first);
  REQUIRE(run_toy(43).hash != first.hash);
}

TEST_CASE("the trace hash of a seed is the same in another process", "[sim][determinism]") {
  for (std::uint64_t seed : {7u, 2026u}) {
    INFO("seed " << seed);
    REQUIRE(run_in_another_process(seed) == run_toy(seed));
  }
}

TEST_CASE("the seeded job order changes interleavings", "[sim][determinism]") {
  // Same network randomness, different scheduling: the runs differ somewhere.
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 100; seed < 105; ++seed) hashes.insert(run_toy(seed).hash);
  REQUIRE(hashes.size() == 5);
}

TEST_CASE("instant_random draws by key and instant: other draws do not move them", "[sim][determinism]") {
  sim::instant_random a(99), b(99);
  const std::uint64_t first = a.at(5, 1).next();
  CHECK(a.at(5, 1).next() != first);  // the second draw at the instant is another
  b.at(3, 1).next();                  // an earlier instant of the same key
  b.at(5, 2).next();                  // another key at the same instant
  CHECK(b.at(5, 1).next() == first);
  CHECK(sim::instant_random(100).at(5, 1).next() != first);  // another seed
}
