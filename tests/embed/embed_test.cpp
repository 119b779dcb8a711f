// The embedding entry points (actors/actors.hpp, sim/sim.hpp,
// check/check.hpp): spawning dkv's actors in a given actor system, an
// application's own actor and types on the simulated network, and each
// misuse failing with a clear error.

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "actors/actors.hpp"
#include "check/check.hpp"
#include "sim/disk/sim_disk.hpp"
#include "sim/sim.hpp"

namespace {

struct ping {
  std::uint64_t from = 0;
  std::uint64_t n = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping& x) {
  return f(caf::meta::type_name("embed_test_ping"), x.from, x.n);
}
struct unregistered {
  int n = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unregistered& x) {
  return f(caf::meta::type_name("embed_test_unregistered"), x.n);
}

}  // namespace

CAF_BEGIN_TYPE_ID_BLOCK(embed_test, caf::id_block::dkv_actors::end)
CAF_ADD_TYPE_ID(embed_test, (ping))
CAF_END_TYPE_ID_BLOCK(embed_test)

using namespace dkv;
using Catch::Matchers::Contains;

namespace {

// An actor system under CAF's test coordinator (no threads), with or without dkv's types.
struct test_system {
  explicit test_system(bool with_dkv_types) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.verbosity", caf::atom("quiet"));
    if (with_dkv_types) actors::add_message_types(cfg);
    system.emplace(cfg);
  }
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> system;
};

struct null_transport final : actors::transport {
  void send(actors::net_address, const caf::message&) override {}
};

actors::raft_node_config node_config() {
  actors::raft_node_config c;
  c.raft.id = 1;
  c.raft.initial_voters = {1, 2, 3};
  return c;
}

actors::client_config client_config() {
  actors::client_config c;
  c.nodes = {1, 2, 3};
  c.self = 1001;
  return c;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("dkv-embed-test-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

}  // namespace

TEST_CASE("an actor system without dkv's type IDs is refused at spawn time", "[embed][misuse]") {
  test_system bare{false};
  const error e = actors::check_message_types(*bare.system);
  CHECK_FALSE(e.ok());
  CHECK_THAT(e.message(), Contains("does not know dkv's message types") && Contains("add_message_types"));

  sim::sim_disk disk{dkv::rng{1}, {}};
  actors::node_seams seams{&disk.files(), std::make_shared<null_transport>(),
                           std::make_shared<actors::actor_system_clock>(*bare.system)};
  CHECK_THROWS_WITH(actors::spawn_raft_node(*bare.system, node_config(), seams, 7),
                    Contains("dkv: cannot spawn a raft_node") && Contains("add_message_types"));
  CHECK_THROWS_AS(actors::spawn_client(*bare.system, client_config(), seams.network, seams.clock, 7),
                  actors::embed_error);

  test_system ready{true};
  CHECK(actors::check_message_types(*ready.system).ok());
}

TEST_CASE("out-of-range node options are refused with the field and the rule", "[embed][misuse]") {
  CHECK(actors::validate(node_config()).ok());
  const auto refused = [](auto change, const char* field) {
    actors::raft_node_config c = node_config();
    change(c);
    const error e = actors::validate(c);
    INFO(field);
    CHECK_FALSE(e.ok());
    CHECK_THAT(e.message(), Contains(field));
  };
  refused([](auto& c) { c.raft.election_ticks = c.raft.heartbeat_ticks; },
          "raft.election_ticks (1) must be greater than raft.heartbeat_ticks (1)");
  refused([](auto& c) { c.raft.election_ticks = 3, c.raft.heartbeat_ticks = 5; }, "raft.election_ticks (3)");
  refused([](auto& c) { c.raft.heartbeat_ticks = 0; }, "raft.heartbeat_ticks (0) must be at least 1");
  refused([](auto& c) { c.tick_ns = 0; }, "tick_ns (0)");
  refused([](auto& c) { c.raft.id = 0; }, "raft.id");
  refused([](auto& c) { c.raft.initial_voters = {1, 0}; }, "raft.initial_voters");
  refused([](auto& c) { c.max_pending = 0; }, "max_pending (0)");
  refused([](auto& c) { c.snapshot_every = 0; }, "snapshot_every (0)");
  refused([](auto& c) { c.raft.max_inflight_messages = 0; }, "raft.max_inflight_messages (0)");
  refused([](auto& c) { c.wal.max_record_bytes = 1000; },
          "wal.max_record_bytes (1000) must be greater than raft.max_payload_bytes");
  refused([](auto& c) { c.machine.sessions.max_sessions = 0; }, "machine.sessions.max_sessions (0)");
  refused([](auto& c) { c.unavailable_after_ticks = 5; },
          "unavailable_after_ticks (5) must be 0 or at least raft.election_ticks (10)");

  test_system ready{true};
  sim::sim_disk disk{dkv::rng{1}, {}};
  actors::node_seams seams{&disk.files(), std::make_shared<null_transport>(),
                           std::make_shared<actors::actor_system_clock>(*ready.system)};
  actors::raft_node_config bad = node_config();
  bad.raft.election_ticks = 1;
  CHECK_THROWS_WITH(actors::spawn_raft_node(*ready.system, bad, seams, 7),
                    Contains("dkv: raft_node_config: raft.election_ticks (1) must be greater"));
  actors::node_seams no_files = seams;
  no_files.files = nullptr;
  CHECK_THROWS_WITH(actors::spawn_raft_node(*ready.system, node_config(), no_files, 7), Contains("file system"));

  sim::sim_cluster_options options;
  options.node.raft.heartbeat_ticks = 0;
  CHECK_THROWS_WITH(sim::sim_cluster(1, options), Contains("sim_cluster_options: node.raft.heartbeat_ticks (0)"));
}

TEST_CASE("out-of-range client options are refused with the field and the rule", "[embed][misuse]") {
  CHECK(actors::validate(client_config()).ok());
  const auto refused = [](auto change, const char* field) {
    actors::client_config c = client_config();
    change(c);
    const error e = actors::validate(c);
    INFO(field);
    CHECK_FALSE(e.ok());
    CHECK_THAT(e.message(), Contains(field));
  };
  refused([](auto& c) { c.nodes.clear(); }, "nodes must name at least one node");
  refused([](auto& c) { c.self = 0; }, "self must be");
  refused([](auto& c) { c.self = 2; }, "self (2) must not be one of the nodes");
  refused([](auto& c) { c.max_backoff_ns = c.min_backoff_ns - 1; },
          "max_backoff_ns (4999999) must be at least min_backoff_ns");
  refused([](auto& c) { c.call_timeout_ns = 1; }, "call_timeout_ns (1) must be at least attempt_timeout_ns");
  refused([](auto& c) { c.attempt_timeout_ns = 0; }, "attempt_timeout_ns (0)");
  refused([](auto& c) { c.max_calls = 0; }, "max_calls (0)");
  refused([](auto& c) { c.home = 4; }, "home (4) must be 0 or one of the nodes");

  sim::sim_cluster cluster{1};
  actors::client_config bad;
  bad.call_timeout_ns = 0;
  CHECK_THROWS_WITH(cluster.add_client(bad), Contains("dkv: client_config: call_timeout_ns (0)"));
}

TEST_CASE("an unusable data directory is refused with its path and the reason", "[embed][misuse]") {
  const std::string file = temp_path("a-file");
  std::ofstream(file) << "not a directory";
  CHECK_THROWS_WITH(actors::open_data_directory(file), Contains("dkv: data directory '" + file + "' is unusable"));
  CHECK_THROWS_WITH(actors::open_data_directory(file + "/below"), Contains("is unusable"));
  CHECK_THROWS_WITH(actors::open_data_directory(""), Contains("the path is empty"));
  if (::geteuid() != 0) {  // root reads and writes any directory whatever its mode
    const std::string locked = temp_path("locked");
    std::filesystem::create_directory(locked);
    std::filesystem::permissions(locked, std::filesystem::perms::owner_exec);
    CHECK_THROWS_WITH(actors::open_data_directory(locked), Contains("'" + locked + "' is unusable"));
    std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
    std::filesystem::remove_all(locked);
  }
  std::filesystem::remove(file);

  const std::string fresh = temp_path("fresh");
  {
    auto files = actors::open_data_directory(fresh);
    std::vector<std::string> names;
    REQUIRE(files->list(names).ok());
    CHECK(names.empty());  // the probe is gone
  }
  std::filesystem::remove_all(fresh);
}

TEST_CASE("raft nodes and a client spawned through the entry points form a working cluster", "[embed]") {
  // What the nodes point to is declared before the simulator, which stops them.
  std::vector<std::unique_ptr<sim::sim_disk>> disks;
  std::vector<actors::raft_node_status> status(3);
  std::vector<caf::actor> spawned;
  sim::simulator sim{42, actors::add_message_types};
  const auto clock = std::make_shared<actors::actor_system_clock>(sim.system());
  for (sim::node_id id = 1; id <= 3; ++id) {
    disks.push_back(std::make_unique<sim::sim_disk>(sim.derive(id), sim::disk_faults{}));
    actors::raft_node_config c = node_config();
    c.raft.id = id;
    auto port = std::make_shared<sim::network_port>(sim.system(), sim.network(), id);
    const caf::actor node =
        actors::spawn_raft_node(sim.system(), c, {&disks.back()->files(), port, clock}, 100 + id, &status[id - 1]);
    sim.network().attach(id, node);
    spawned.push_back(node);
  }
  const caf::actor client = actors::spawn_client(
      sim.system(), client_config(), std::make_shared<sim::network_port>(sim.system(), sim.network(), 1001), clock, 9);
  sim.network().attach(1001, client);
  spawned.push_back(client);

  std::optional<actors::store_answer> set, get;
  // (A function actor gets at least one argument: CAF 0.17.6 binds a null
  // reference for an empty argument tuple, which UBSan reports.)
  sim.spawn(
      [&](caf::event_based_actor* self, caf::actor asked) {
        self->request(asked, caf::infinite, actors::calls::set("k", "v"))
            .then([&, self, asked](actors::store_answer& a) {
              set = a;
              self->request(asked, caf::infinite, actors::calls::get("k")).then([&](actors::store_answer& b) {
                get = b;
              });
            });
      },
      client);
  REQUIRE(sim.run_until([&] { return get.has_value(); }, 20'000'000'000));
  CHECK(set->code == 0);
  CHECK(get->code == 0);
  CHECK(get->found);
  CHECK(get->value == "v");
  CHECK(get->index == set->index);
  CHECK(std::count_if(status.begin(), status.end(), [](const auto& s) { return s.role == raft::role::leader; }) == 1);
  // Actors spawned outside sim.spawn() are the caller's to stop before the system goes.
  for (const caf::actor& a : spawned) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("an application's actor and its own types on the simulated network", "[embed]") {
  sim::sim_cluster_options options;
  options.configure = [](caf::actor_system_config& cfg) { cfg.add_message_types<caf::id_block::embed_test>(); };
  sim::sim_cluster cluster{3, options};

  std::vector<std::uint64_t> heard;
  const caf::actor echo = cluster.sim().spawn(
      [](caf::event_based_actor*, std::vector<std::uint64_t>* out) -> caf::behavior {
        return {[out](const ping& p) { out->push_back(p.n); }};
      },
      &heard);
  const auto port = sim::attach(cluster, sim::first_application_address, echo);
  const auto sender = std::make_shared<sim::network_port>(cluster.sim().system(), cluster.sim().network(), 5002);
  sender->send(port->address(), caf::make_message(ping{5002, 1}));
  cluster.sim().run_until(cluster.sim().now_ns() + 1'000'000'000);
  CHECK(heard == std::vector<std::uint64_t>{1});

  // A type outside every registered block is caught at the sender, not lost on the wire.
  CHECK_THROWS_WITH(sender->send(port->address(), caf::make_message(unregistered{3})),
                    Contains("unregistered type") && Contains("sim_cluster_options::configure"));
  CHECK_THROWS_WITH(sim::attach(cluster, 2, echo), Contains("one of the cluster's nodes"));
}

TEST_CASE("a recorded history under faults checks as linearizable", "[embed]") {
  sim::sim_cluster cluster{5};
  sim::history_recorder history;
  history.meta(0, 5, "embed_test", cluster.size());
  sim::store_call_recorder recorder{cluster.sim(), history};
  REQUIRE(sim::wait_for_leader(cluster, 5'000'000'000));
  const std::uint64_t t0 = cluster.sim().now_ns();
  sim::schedule_faults(cluster,
                       {{t0 + 100'000'000, sim::faults::split({{1}, {2, 3}})},
                        {t0 + 400'000'000, sim::faults::crash(2)},
                        {t0 + 900'000'000, sim::faults::restart(2)},
                        {t0 + 1'000'000'000, sim::faults::heal()}},
                       &history);
  sim::sim_client client{cluster};
  std::uint32_t process = recorder.new_process();
  std::size_t calls = 0;
  for (int i = 0; i < 30 || cluster.sim().now_ns() < t0 + 1'200'000'000; ++i, ++calls) {
    const actors::store_call call =
        i % 3 == 2 ? actors::calls::get("k") : actors::calls::set("k", "v" + std::to_string(i));
    const std::size_t id = recorder.invoke(process, call);
    if (recorder.complete(id, client.call(call)) == sim::outcome::info) process = recorder.new_process();
  }
  CHECK(history.recorded().faults.size() == 4);
  const auto result = check::check_history(history.recorded());
  INFO(result.summary);
  CHECK(result.ok());
  CHECK_THAT(result.summary, Contains("linearizable: " + std::to_string(calls) + " operations"));

  // A poisoned read is caught, with the key in the summary.
  check::history broken = history.recorded();
  for (auto& op : broken.operations)
    if (op.f == "get" && op.result == check::outcome::ok) {
      op.result_value = "never written";
      op.found = true;
      break;
    }
  const auto caught = check::check_history(broken);
  CHECK_FALSE(caught.ok());
  CHECK_THAT(caught.summary, Contains("not linearizable, key 'k'"));
}
