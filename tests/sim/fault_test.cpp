// Fault schedules: the generator's promises, and faults applied to a running
// toy cluster (crash, restart, pause, partitions).

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <map>
#include <optional>

#include "sim/faults/fault_generator.hpp"
#include "sim/faults/fault_schedule.hpp"
#include "sim/testing/toy_cluster.hpp"

using namespace dkv;
using sim::fault_kind;

TEST_CASE("generated fault schedules keep their promises", "[sim][faults][property]") {
  rc::prop("bounded, every fault ends by stop, deterministic", [](std::uint64_t seed, std::uint8_t size_pick) {
    const std::vector<sim::node_id> nodes =
        size_pick % 2 ? std::vector<sim::node_id>{1, 2, 3} : std::vector<sim::node_id>{1, 2, 3, 4, 5};
    sim::fault_options options;
    options.stop_ns = 120'000'000'000;
    options.mean_gap_ns = 1'000'000'000;
    options.max_down = (nodes.size() - 1) / 2;
    options.max_damaged = options.max_down;
    options.weights.membership = size_pick % 3;  // 0: none at all
    options.weights.lose = options.weights.cut = size_pick % 2;  // drawn only without membership changes
    dkv::rng random(seed);
    const auto faults = sim::generate_faults(random, nodes, options);
    RC_ASSERT(!faults.empty());

    std::map<sim::node_id, fault_kind> state;  // crash / pause while down
    std::set<sim::node_id> damaged;
    bool partitioned = false;
    std::optional<sim::node_id> removed;  // one server out of the configuration at a time
    std::size_t changes = 0;
    std::uint64_t last = 0;
    for (const auto& [t, f] : faults) {
      RC_ASSERT(t >= last);
      RC_ASSERT(t >= options.start_ns);
      RC_ASSERT(t <= options.stop_ns);
      last = t;
      switch (f.kind) {
        case fault_kind::crash:
        case fault_kind::pause:
          RC_ASSERT(state.count(f.node) == 0);
          state[f.node] = f.kind;
          RC_ASSERT(state.size() <= options.max_down);
          break;
        case fault_kind::restart:
          RC_ASSERT(state.at(f.node) == fault_kind::crash);
          state.erase(f.node);
          break;
        case fault_kind::resume:
          RC_ASSERT(state.at(f.node) == fault_kind::pause);
          state.erase(f.node);
          break;
        case fault_kind::damage_disk:
        case fault_kind::lose_disk:
        case fault_kind::cut_log:
          RC_ASSERT(state.at(f.node) == fault_kind::crash);  // only a stopped node's disk
          damaged.insert(f.node);
          break;
        case fault_kind::heal: partitioned = false; break;
        case fault_kind::clock: break;
        case fault_kind::remove_server:
          RC_ASSERT(!removed);
          removed = f.node;
          ++changes;
          break;
        case fault_kind::add_server:
          RC_ASSERT(removed == f.node);  // the one removed, back
          removed.reset();
          break;
        default: RC_ASSERT(!partitioned); partitioned = true;
      }
    }
    RC_ASSERT(state.empty());
    RC_ASSERT(!partitioned);
    RC_ASSERT(!removed);
    RC_ASSERT((changes > 0) == (options.weights.membership > 0));
    RC_ASSERT(damaged.size() <= options.max_damaged);

    dkv::rng again(seed);
    const auto replay = sim::generate_faults(again, nodes, options);
    RC_ASSERT(replay.size() == faults.size());
    for (std::size_t i = 0; i < faults.size(); ++i) RC_ASSERT(replay[i].what.describe() == faults[i].what.describe());
  });
}

namespace {

// The toy cluster as a fault target: crash stops a node's actor, restart
// spawns a fresh one at the same address.
struct toy_target final : sim::fault_target {
  test::toy_cluster& c;
  std::vector<sim::node_id> ids{1, 2, 3};
  std::vector<std::string> applied;
  explicit toy_target(test::toy_cluster& cluster) : c(cluster) {}

  sim::partition& cuts() override { return c.sim.network().cuts(); }
  void crash(sim::node_id n) override {
    caf::anon_send_exit(c.nodes[n - 1], caf::exit_reason::kill);
    c.sim.network().detach(n);
  }
  void restart(sim::node_id n) override {
    std::vector<sim::node_id> peers;
    for (sim::node_id p : ids)
      if (p != n) peers.push_back(p);
    c.nodes[n - 1] =
        c.sim.spawn(test::gossip_node, n, peers, &c.sim.network(), std::uint64_t{0}, &c.rngs[n - 1], &c.log);
    c.sim.network().attach(n, c.nodes[n - 1]);
  }
  void pause(sim::node_id n) override { c.sim.pause(c.nodes[n - 1]); }
  void resume(sim::node_id n) override { c.sim.resume(c.nodes[n - 1]); }
  void set_clock(sim::node_id, const sim::node_clock&) override {}
  void damage_disk(sim::node_id) override {}
  void lose_disk(sim::node_id) override {}
  void cut_log(sim::node_id) override {}
  void misconfigure(sim::node_id) override {}
  void change_membership(sim::fault_kind, sim::node_id) override {}
};

void send(test::toy_cluster& c, sim::node_id to, std::string note) {
  c.sim.network().route(sim::node_id{0}, to, caf::make_message(test::gossip{0, to, 0, std::move(note)}));
}

sim::fault at_node(fault_kind kind, sim::node_id node) {
  sim::fault f;
  f.kind = kind;
  f.node = node;
  return f;
}

}  // namespace

TEST_CASE("crash, restart, pause and resume act on the running cluster", "[sim][faults]") {
  test::toy_cluster c(5, 3, 0);
  toy_target target(c);
  std::vector<std::string> applied;
  sim::schedule_faults(
      c.sim, target, target.ids,
      {{10'000'000, at_node(fault_kind::crash, 2)},
       {20'000'000, at_node(fault_kind::restart, 2)},
       {30'000'000, at_node(fault_kind::pause, 3)},
       {40'000'000, at_node(fault_kind::resume, 3)}},
      [&](std::uint64_t t, const sim::fault& f) { applied.push_back(std::to_string(t) + " " + f.describe()); });
  c.sim.run_until(11'000'000);
  send(c, 2, "to a crashed node");
  c.sim.run_until(21'000'000);
  send(c, 2, "after restart");
  c.sim.run_until(31'000'000);
  send(c, 3, "while paused");
  c.sim.run_until(39'000'000);
  REQUIRE(c.log.size() == 1);  // only "after restart"; node 3 holds its message
  c.sim.run_until(50'000'000);
  REQUIRE(c.log.size() == 2);
  REQUIRE(c.log[1].message.note == "while paused");
  REQUIRE(c.log[1].time_ns >= 40'000'000);
  REQUIRE(applied ==
          std::vector<std::string>{"10000000 crash 2", "20000000 restart 2", "30000000 pause 3", "40000000 resume 3"});
}
