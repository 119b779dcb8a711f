// How fast the simulator core runs: a 5-node gossip cluster (the toy of the
// simulator's tests) with 1% drops, every message round-tripped through the
// serializer and routed by the simulated network. Prints deliveries, scheduler
// steps and simulated seconds per wall second.

#include <chrono>
#include <cstdio>

#include "sim/testing/toy_cluster.hpp"

int main() {
  using clock = std::chrono::steady_clock;                 // the benchmark's own stopwatch, outside the simulation
  constexpr std::uint64_t simulated_ns = 600'000'000'000;  // 10 simulated minutes
  dkv::test::toy_cluster cluster(1, 5, ~std::uint64_t{0});
  cluster.sim.network().set_faults({.min_latency_ns = 200'000, .max_latency_ns = 2'000'000, .drop = 0.01});
  for (int i = 0; i < 32; ++i) cluster.start(static_cast<dkv::sim::node_id>(1 + i % 5), "rumour");
  // Keep the gossip alive: drops end rumours, so start new ones every simulated second.
  for (std::uint64_t t = 1'000'000'000; t < simulated_ns; t += 1'000'000'000)
    cluster.sim.at(t, "refill", [&cluster] {
      const auto lost = cluster.sim.network().stats().dropped;
      static std::uint64_t seen = 0;
      for (; seen < lost; ++seen) cluster.start(static_cast<dkv::sim::node_id>(1 + seen % 5), "rumour");
    });
  const auto start = clock::now();
  cluster.sim.run_until(simulated_ns);
  const double wall = std::chrono::duration<double>(clock::now() - start).count();
  const auto& stats = cluster.sim.network().stats();
  std::printf("sim core: 5 nodes, 32 rumours, 1%% drops, %.0f simulated s in %.2f wall s\n", simulated_ns / 1e9, wall);
  std::printf("  deliveries   %llu (%.2f M/s)\n", static_cast<unsigned long long>(stats.delivered),
              stats.delivered / wall / 1e6);
  std::printf("  steps        %llu (%.2f M/s)\n", static_cast<unsigned long long>(cluster.sim.steps()),
              cluster.sim.steps() / wall / 1e6);
  std::printf("  time ratio   %.0fx real time\n", simulated_ns / 1e9 / wall);
  std::printf("  trace hash   %016llx\n", static_cast<unsigned long long>(cluster.sim.trace().value()));
}
