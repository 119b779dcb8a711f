// Runs the toy cluster for one seed and prints its trace hash: the
// determinism test runs this in separate processes and compares.

#include <cstdio>
#include <cstdlib>

#include "sim/testing/toy_cluster.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: sim_trace_probe SEED\n");
    return 2;
  }
  const std::uint64_t seed = std::strtoull(argv[1], nullptr, 10);
  dkv::test::toy_cluster cluster(seed, 5, 200);
  cluster.sim.network().set_faults(
      {.min_latency_ns = 100'000, .max_latency_ns = 5'000'000, .drop = 0.05, .duplicate = 0.05});
  for (int i = 0; i < 4; ++i) cluster.start(static_cast<dkv::sim::node_id>(1 + i), "rumour " + std::to_string(i));
  cluster.sim.at(200'000'000, "split 1,2 | 3,4,5", [&] { cluster.sim.network().cuts().split({{1, 2}, {3, 4, 5}}); });
  cluster.sim.at(600'000'000, "heal", [&] { cluster.sim.network().cuts().heal(); });
  cluster.sim.run_until(2'000'000'000);
  std::printf("%016llx %zu\n", static_cast<unsigned long long>(cluster.sim.trace().value()), cluster.log.size());
  return 0;
}
