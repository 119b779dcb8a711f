// A shard that cannot make progress answers its clients within a bound, as
// Unavailable and saying why, instead of leaving them to their deadline
// (raft_node_config::unavailable_after_ticks, a client with a home node, as
// dkv serve runs them): no leader known while a majority is down, and a
// replica repairing damaged storage with no leader to repair from. The
// node reports each state once when it enters it and once when it leaves.
// In the simulator: deterministic, virtual time.

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "sim/cluster/sim_client.hpp"
#include "sim/cluster/sim_cluster.hpp"

using namespace dkv;
using actors::report_level;
using actors::store_answer;
using actors::store_call;

namespace {

constexpr std::uint64_t ms = 1'000'000;

struct report_line {
  report_level level;
  std::string text;
};

struct unavailable_cluster {
  std::shared_ptr<std::vector<report_line>> reports = std::make_shared<std::vector<report_line>>();
  sim::sim_cluster_options options;
  std::unique_ptr<sim::sim_cluster> cluster;
  std::uint64_t bound_ns = 0;  // unavailable_after_ticks on the nodes' clocks

  explicit unavailable_cluster(std::uint64_t seed) {
    options.node.unavailable_after_ticks = 3 * options.node.raft.election_ticks;
    bound_ns = options.node.unavailable_after_ticks * options.node.tick_ns;
    cluster = std::make_unique<sim::sim_cluster>(seed, with_reports(options));
    cluster->sim().network().set_faults({.min_latency_ns = 100'000, .max_latency_ns = 1 * ms});
  }

  // Every node's reports, in one list.
  sim::sim_cluster_options with_reports(sim::sim_cluster_options o) {
    o.node.report = [reports = reports](report_level level, const std::string& text) {
      reports->push_back({level, text});
    };
    return o;
  }

  sim::simulator& sim() { return cluster->sim(); }
  bool reported(report_level level, const std::string& part) const {
    for (const report_line& r : *reports)
      if (r.level == level && r.text.find(part) != std::string::npos) return true;
    return false;
  }
  std::size_t count(report_level level, const std::string& part) const {
    std::size_t n = 0;
    for (const report_line& r : *reports) n += r.level == level && r.text.find(part) != std::string::npos ? 1 : 0;
    return n;
  }
};

store_call set_call(std::string key) {
  store_call c;
  c.op = static_cast<std::uint8_t>(operation_kind::set);
  c.key = std::move(key);
  c.value = "v";
  return c;
}

store_call get_call(std::string key) {
  store_call c;
  c.op = static_cast<std::uint8_t>(operation_kind::get);
  c.key = std::move(key);
  return c;
}

// Flips a byte in the middle of the node's first log segment.
void damage_log(sim::sim_cluster& cluster, sim::node_id id) {
  storage::file_system& files = cluster.disk(id).files();
  std::vector<std::string> names;
  REQUIRE(files.list(names).ok());
  for (const std::string& name : names) {
    if (name.rfind("wal-", 0) != 0) continue;
    std::unique_ptr<storage::file> f;
    REQUIRE(files.open(name, storage::open_mode::existing, f).ok());
    REQUIRE(cluster.disk(id).damage(name, f->size() / 2));
    return;
  }
  FAIL("no log segment on node " << id);
}

}  // namespace

TEST_CASE("with a majority down, a node refuses clients as Unavailable, saying why, within its bound",
          "[actors][unavailable]") {
  unavailable_cluster u(11);
  sim::simulator& sim = u.sim();
  REQUIRE(sim.run_until([&] { return u.cluster->leader().has_value(); }, sim.now_ns() + 10'000 * ms));
  const sim::node_id survivor = *u.cluster->leader() % 3 + 1;  // a follower
  actors::client_config config;
  config.home = survivor;
  sim::sim_client client(*u.cluster, config);
  REQUIRE(client.call(set_call("before")).code == 0);

  for (sim::node_id id : u.cluster->node_ids())
    if (id != survivor) u.cluster->crash(id);
  // The bound runs from the last word of the leader; an election timeout
  // may pass before the survivor knows it has none.
  sim.run_until(sim.now_ns() + u.bound_ns + 2 * u.options.node.raft.election_ticks * u.options.node.tick_ns);
  CHECK(u.count(report_level::warn, "unavailable: no leader known for ") == 1);

  for (const store_call& call : {set_call("after"), get_call("before")}) {
    const std::uint64_t start = sim.now_ns();
    const store_answer a = client.call(call);
    const std::uint64_t took = sim.now_ns() - start;
    INFO("op " << int(call.op) << ": code " << int(a.code) << " after " << took / ms << " ms: " << a.message);
    CHECK(a.code == static_cast<std::uint8_t>(error_code::unavailable));
    CHECK_THAT(a.message, Catch::StartsWith("no leader known for "));
    CHECK_THAT(a.message, Catch::Contains("election timeouts); this replica is a pre-candidate in term "));
    CHECK_THAT(a.message, Catch::EndsWith("it heard from 1 of 3 voters, itself included, in the last 300 ms"));
    CHECK(took < 10 * ms);  // at once: the refusal is final
  }

  // Back to a majority: a leader, and the node says it is available again.
  for (sim::node_id id : u.cluster->node_ids())
    if (id != survivor) u.cluster->restart(id);
  REQUIRE(sim.run_until([&] { return u.cluster->leader().has_value(); }, sim.now_ns() + 10'000 * ms));
  CHECK(client.call(set_call("healed")).code == 0);
  CHECK(u.count(report_level::info, "available again: ") >= 1);
}

TEST_CASE("a replica repairing damaged storage, with no leader to repair from, says so to its clients",
          "[actors][unavailable][durability]") {
  unavailable_cluster u(12);
  sim::simulator& sim = u.sim();
  REQUIRE(sim.run_until([&] { return u.cluster->leader().has_value(); }, sim.now_ns() + 10'000 * ms));
  {
    sim::sim_client writer(*u.cluster);
    for (int i = 0; i < 40; ++i) REQUIRE(writer.call(set_call("k" + std::to_string(i))).code == 0);
  }
  sim.run_until(sim.now_ns() + 100 * ms);
  for (sim::node_id id : u.cluster->node_ids()) u.cluster->crash(id);
  damage_log(*u.cluster, 1);
  u.cluster->restart(1);
  sim.run_until(sim.now_ns() + 1 * ms);
  REQUIRE(u.cluster->status(1).repairing);
  CHECK(u.count(report_level::error, "its storage is damaged (") == 1);

  actors::client_config config;
  config.home = 1;
  sim::sim_client client(*u.cluster, config);
  sim.run_until(sim.now_ns() + u.bound_ns);
  const std::uint64_t start = sim.now_ns();
  const store_answer a = client.call(set_call("while repairing"));
  INFO("code " << int(a.code) << " after " << (sim.now_ns() - start) / ms << " ms: " << a.message);
  CHECK(a.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK_THAT(a.message, Catch::StartsWith("no leader known for "));
  CHECK_THAT(a.message,
             Catch::Contains("; this replica is repairing damaged storage (" + u.cluster->status(1).storage_problem +
                             ") and waits for a leader to repair from, neither voting nor counting "
                             "toward a quorum until then; it heard from 1 of 3 voters"));
  CHECK(sim.now_ns() - start < 10 * ms);

  // One healthy voter is not enough: the repairing one does not vote.
  u.cluster->restart(2);
  sim.run_until(sim.now_ns() + 2 * u.bound_ns);
  CHECK_FALSE(u.cluster->leader().has_value());
  const store_answer b = client.call(set_call("still repairing"));
  INFO(b.message);
  CHECK(b.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK_THAT(b.message, Catch::Contains("it heard from 2 of 3 voters"));

  // Two are: a leader, the repair, and service.
  u.cluster->restart(3);
  REQUIRE(sim.run_until([&] { return !u.cluster->status(1).repairing; }, sim.now_ns() + 10'000 * ms));
  CHECK(client.call(set_call("repaired")).code == 0);
  CHECK(u.count(report_level::info, "repaired its damaged storage: caught up to index ") == 1);
  CHECK(u.reported(report_level::info, "available again: "));
}

// Started alone on empty storage — perhaps in a lost member's place, by
// mistake — a node serves no client until a cluster that lists it has had
// time to reach it (alone_quiet_ns; dkv serve waits out its peers' longest
// reconnect backoff). Found by a real run of wrong-members.toml: the
// cluster's peers dialled the lone node only after their backoff, and it
// acknowledged writes the cluster never saw meanwhile. Restarted on its own
// storage it serves at once.
TEST_CASE("a node alone on empty storage serves no client for alone_quiet_ns, and at once on its own storage",
          "[actors][unavailable]") {
  unavailable_cluster u(13);
  u.options.nodes = 1;
  u.options.node.alone_quiet_ns = 500 * ms;
  u.cluster = std::make_unique<sim::sim_cluster>(13, u.with_reports(u.options));
  sim::simulator& sim = u.sim();
  actors::client_config config;
  config.home = 1;
  sim::sim_client client(*u.cluster, config);

  const store_answer early = client.call(set_call("early"));
  INFO(early.message);
  CHECK(early.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK_THAT(early.message, Catch::StartsWith("this replica is alone in its member list, on empty storage, and "
                                              "serves no client for its first 500 ms"));
  CHECK(u.count(report_level::info, "this replica is alone in its member list, on empty storage, and serves no "
                                     "client for its first 500 ms") == 1);
  CHECK(u.count(report_level::warn, "unavailable: ") == 0);  // said once, at its start

  sim.run_until(sim.now_ns() + 500 * ms);
  CHECK(client.call(set_call("later")).code == 0);

  u.cluster->crash(1);
  u.cluster->restart(1);
  const std::uint64_t start = sim.now_ns();
  const store_answer again = client.call(set_call("restarted"));
  INFO(again.message);
  CHECK(again.code == 0);
  CHECK(sim.now_ns() - start < 500 * ms);
  CHECK(u.count(report_level::info, "alone in its member list, on empty storage") == 1);
}
