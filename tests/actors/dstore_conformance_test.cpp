// dstore — the IStore facade over a simulated 3-node cluster — through the
// foundation's conformance suite, unchanged: on a calm network, then with
// drops, duplicates and long delays. Reopening crashes and restarts every
// node: what was acknowledged must come back from the disks.

#include <catch2/catch.hpp>

#include <map>

#include "sim/cluster/sim_client.hpp"
#include "tests/support/conformance.hpp"

using namespace dkv;

namespace {

// A cluster and one client, owned by the store handed to the suite.
struct simulated_world {
  std::unique_ptr<sim::sim_cluster> cluster;  // declared first: outlives the client
  std::unique_ptr<sim::sim_client> client;
};

std::unique_ptr<istore> store_over(std::shared_ptr<simulated_world> world) {
  world->client = std::make_unique<sim::sim_client>(*world->cluster);
  return std::make_unique<actors::dstore>([world](actors::store_call c) { return world->client->call(std::move(c)); });
}

test::store_maker simulated_dstore(std::uint64_t seed, sim::link_faults faults) {
  // The reopened store needs the world of the old one: remember them by address.
  auto worlds = std::make_shared<std::map<const istore*, std::shared_ptr<simulated_world>>>();
  return {
      [=] {
        auto world = std::make_shared<simulated_world>();
        world->cluster = std::make_unique<sim::sim_cluster>(seed);
        world->cluster->sim().network().set_faults(faults);
        auto store = store_over(world);
        (*worlds)[store.get()] = world;
        return store;
      },
      [=](istore& old) {
        auto world = worlds->at(&old);
        for (sim::node_id id : world->cluster->node_ids()) world->cluster->crash(id);
        for (sim::node_id id : world->cluster->node_ids()) world->cluster->restart(id);
        auto store = store_over(world);
        (*worlds)[store.get()] = world;
        return store;
      },
  };
}

}  // namespace

TEST_CASE("dstore in simulation passes the IStore conformance suite", "[conformance][dstore][sim]") {
  test::run_conformance(simulated_dstore(1, {.min_latency_ns = 100'000, .max_latency_ns = 2'000'000}));
}

TEST_CASE("dstore passes the conformance suite with drops, duplicates and delays", "[conformance][dstore][sim]") {
  test::run_conformance(
      simulated_dstore(2, {.min_latency_ns = 100'000, .max_latency_ns = 30'000'000, .drop = 0.05, .duplicate = 0.05}));
}
