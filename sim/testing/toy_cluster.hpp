#pragma once
// A toy cluster for testing the simulator itself: gossip nodes that forward a
// counter to a random peer through the simulated network, and a recorder of
// every delivery. Small enough to reason about, busy enough to exercise
// latency, drops, duplicates, partitions and the seeded job order.

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/type_id.hpp>

#include <string>
#include <vector>

#include "sim/simulator/simulator.hpp"

namespace dkv::test {

struct gossip {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint64_t hops = 0;
  std::string note;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gossip& x) {
  return f(caf::meta::type_name("gossip"), x.from, x.to, x.hops, x.note);
}

}  // namespace dkv::test

CAF_BEGIN_TYPE_ID_BLOCK(dkv_sim_test, caf::first_custom_type_id + 200)
CAF_ADD_TYPE_ID(dkv_sim_test, (dkv::test::gossip))
CAF_END_TYPE_ID_BLOCK(dkv_sim_test)

namespace dkv::test {

inline void register_toy_types(caf::actor_system_config& cfg) { cfg.add_message_types<caf::id_block::dkv_sim_test>(); }

struct delivery {
  std::uint64_t time_ns;
  gossip message;
};

// A node that records what reaches it and, while hops remain, passes the
// message on to a peer it picks with its own seeded rng.
inline caf::behavior gossip_node(caf::event_based_actor* self, sim::node_id me, std::vector<sim::node_id> peers,
                                 sim::sim_network* network, std::uint64_t max_hops, dkv::rng* random,
                                 std::vector<delivery>* log) {
  return {[=](const gossip& g) {
    log->push_back({static_cast<std::uint64_t>(self->clock().now().time_since_epoch().count()), g});
    if (g.hops >= max_hops) return;
    const sim::node_id next = peers[random->below(peers.size())];
    network->route(me, next, caf::make_message(gossip{me, next, g.hops + 1, g.note}));
  }};
}

struct toy_cluster {
  sim::simulator sim;
  std::vector<dkv::rng> rngs;
  std::vector<delivery> log;
  std::vector<caf::actor> nodes;

  toy_cluster(std::uint64_t seed, std::uint32_t size, std::uint64_t max_hops) : sim(seed, register_toy_types) {
    rngs.reserve(size);
    for (sim::node_id id = 1; id <= size; ++id) {
      std::vector<sim::node_id> peers;
      for (sim::node_id p = 1; p <= size; ++p)
        if (p != id) peers.push_back(p);
      rngs.push_back(sim.derive(id));
      nodes.push_back(sim.spawn(gossip_node, id, peers, &sim.network(), max_hops, &rngs.back(), &log));
      sim.network().attach(id, nodes.back());
    }
  }

  // Starts a rumour at `node` (as if from node 0, the outside).
  void start(sim::node_id node, std::string note) {
    sim.network().route(0, node, caf::make_message(gossip{0, node, 0, std::move(note)}));
  }
};

}  // namespace dkv::test
