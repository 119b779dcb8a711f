// raft_node actors in the simulator: a cluster elects, commits and applies
// client commands on every node; a crashed leader is replaced and catches
// up after its restart; the same seed gives the same trace hash.

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include "actors/messages.hpp"
#include "sim/cluster/sim_cluster.hpp"
#include "store/bugs.hpp"
#include "store/replicated/log_command.hpp"

using namespace dkv;
using actors::command_outcome;
using actors::propose_command;

namespace {

constexpr sim::node_id client_address = 1001;
constexpr std::uint64_t second = 1'000'000'000;

caf::behavior outcome_recorder(caf::event_based_actor*, std::vector<command_outcome>* out) {
  return {[out](const command_outcome& o) { out->push_back(o); }};
}

struct harness {
  sim::sim_cluster cluster;
  std::vector<command_outcome> outcomes;

  explicit harness(std::uint64_t seed, sim::sim_cluster_options options = {}) : cluster(seed, std::move(options)) {
    cluster.sim().network().set_faults({.min_latency_ns = 100'000, .max_latency_ns = 2'000'000});
    cluster.sim().network().attach(client_address, cluster.sim().spawn(outcome_recorder, &outcomes));
  }

  sim::node_id await_leader(std::uint64_t within_ns = 10 * second) {
    REQUIRE(cluster.sim().run_until([&] { return cluster.leader().has_value(); }, cluster.sim().now_ns() + within_ns));
    return *cluster.leader();
  }

  // Opens a session through the current leader; returns the log index it got.
  std::uint64_t open_session(std::uint64_t request) {
    const sim::node_id leader = await_leader();
    std::string command;
    replicated::encode_open_session(command);
    const std::size_t before = outcomes.size();
    cluster.sim().network().route(client_address, leader,
                                  caf::make_message(propose_command{client_address, request, command}));
    REQUIRE(cluster.sim().run_until([&] { return outcomes.size() > before; }, cluster.sim().now_ns() + 5 * second));
    return outcomes.back().code == 0 ? outcomes.back().log_index : 0;
  }

  bool all_applied(std::uint64_t index) {
    for (sim::node_id id = 1; id <= cluster.size(); ++id)
      if (cluster.up(id) && cluster.status(id).applied < index) return false;
    return true;
  }
};

}  // namespace

TEST_CASE("a simulated cluster of raft nodes elects a leader and applies commands everywhere", "[actors][sim]") {
  harness h(11);
  std::uint64_t last = 0;
  for (std::uint64_t request = 1; request <= 20; ++request) {
    const std::uint64_t index = h.open_session(request);
    REQUIRE(index > last);
    last = index;
  }
  REQUIRE(h.cluster.sim().run_until([&] { return h.all_applied(last); }, h.cluster.sim().now_ns() + 5 * second));
  for (sim::node_id id = 1; id <= 3; ++id) CHECK_FALSE(h.cluster.status(id).stopped);
}

TEST_CASE("a crashed leader is replaced, and catches up from its disk and its peers", "[actors][sim]") {
  harness h(12);
  const std::uint64_t first = h.open_session(1);
  REQUIRE(first > 0);
  const sim::node_id old_leader = h.await_leader();
  h.cluster.crash(old_leader);
  const sim::node_id new_leader = h.await_leader();
  CHECK(new_leader != old_leader);
  const std::uint64_t second_index = h.open_session(2);
  REQUIRE(second_index > first);
  h.cluster.restart(old_leader);
  REQUIRE(
      h.cluster.sim().run_until([&] { return h.all_applied(second_index); }, h.cluster.sim().now_ns() + 10 * second));
}

TEST_CASE("a simulated raft cluster run is the same for the same seed", "[actors][sim][determinism]") {
  const auto run = [](std::uint64_t seed) {
    harness h(seed);
    for (std::uint64_t request = 1; request <= 5; ++request) h.open_session(request);
    h.cluster.sim().run_until(h.cluster.sim().now_ns() + 2 * second);
    return h.cluster.sim().trace().value();
  };
  const std::uint64_t hash = run(5);
  CHECK(run(5) == hash);
  CHECK(run(6) != hash);
}

namespace {

caf::behavior read_recorder(caf::event_based_actor*, std::vector<actors::read_outcome>* out) {
  return {[out](const actors::read_outcome& o) { out->push_back(o); }};
}

}  // namespace

TEST_CASE("writes through a session and linearizable reads through the read index", "[actors][sim]") {
  harness h(13);
  std::vector<actors::read_outcome> reads;
  constexpr sim::node_id reader = 1002;
  h.cluster.sim().network().attach(reader, h.cluster.sim().spawn(read_recorder, &reads));
  const std::uint64_t session = h.open_session(1);
  REQUIRE(session > 0);
  const sim::node_id leader = h.await_leader();

  replicated::client_write write;
  write.session = session;
  write.sequence = 1;
  write.lowest_unanswered = 1;
  write.command = {.kind = operation_kind::set, .key = "k", .value = "v1"};
  std::string bytes;
  replicated::encode_client_write(write, bytes);
  const std::size_t before = h.outcomes.size();
  h.cluster.sim().network().route(client_address, leader, caf::make_message(propose_command{client_address, 2, bytes}));
  REQUIRE(h.cluster.sim().run_until([&] { return h.outcomes.size() > before; }, h.cluster.sim().now_ns() + 5 * second));
  const command_outcome written = h.outcomes.back();
  REQUIRE(written.code == 0);
  CHECK(written.store_index == 1);  // the first store write: the clock counts store writes only

  const auto read = [&](sim::node_id at, std::string key, bool forwarded = false) {
    const std::size_t seen = reads.size();
    actors::read_command command{reader, 9, std::move(key), static_cast<std::uint8_t>(actors::read_kind::get),
                                 forwarded};
    h.cluster.sim().network().route(reader, at, caf::make_message(std::move(command)));
    REQUIRE(h.cluster.sim().run_until([&] { return reads.size() > seen; }, h.cluster.sim().now_ns() + 5 * second));
    return reads.back();
  };
  const actors::read_outcome got = read(leader, "k");
  CHECK(got.code == 0);
  CHECK(got.found);
  CHECK(got.value == "v1");
  CHECK(got.index == 1);
  CHECK_FALSE(read(leader, "missing").found);
  // A follower does not serve reads: it forwards them to the leader, once;
  // a request that was forwarded already is refused with the leader's name.
  const sim::node_id follower = leader % 3 + 1;
  const actors::read_outcome forwarded = read(follower, "k");
  CHECK(forwarded.code == 0);
  CHECK(forwarded.value == "v1");
  const actors::read_outcome refused = read(follower, "k", true);
  CHECK(refused.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK(refused.leader == leader);
}

TEST_CASE("an idle cluster arms only the leader's heartbeat and each follower's election timer", "[actors][sim]") {
  harness h(13);
  const sim::node_id leader = h.await_leader();
  const std::uint64_t timers_before = h.cluster.sim().timers_fired();
  const std::uint64_t term = h.cluster.status(leader).term;
  h.cluster.sim().run_until(h.cluster.sim().now_ns() + 10 * second);
  const std::uint64_t timers = h.cluster.sim().timers_fired() - timers_before;
  // 10 ms ticks: the leader beats on each (1000 in 10 s). A follower hears
  // it and wakes once per election timeout (100-200 ms) to look: at most
  // 100 each. Ticking every node on every tick would be 3000.
  CHECK(timers >= 1000);
  CHECK(timers <= 1000 + 2 * 100 + 10);
  CHECK(h.cluster.leader() == leader);
  CHECK(h.cluster.status(leader).term == term);
}

TEST_CASE("a follower stalled past its election timeout reads the heartbeats that waited for it before it acts",
          "[actors][sim]") {
  sim::sim_cluster_options options;
  options.node.raft.pre_vote = false;  // so a campaign would raise the term at once
  harness h(14, options);
  sim::sim_cluster& cluster = h.cluster;
  const sim::node_id leader = h.await_leader();
  const std::uint64_t term = cluster.status(leader).term;
  const sim::node_id follower = leader % 3 + 1;
  cluster.pause(follower);
  cluster.sim().run_until(cluster.sim().now_ns() + 2 * second);  // ten election timeouts and more
  cluster.resume(follower);
  cluster.sim().run_until(cluster.sim().now_ns() + 2 * second);
  // Its timer rang late, behind the leader's heartbeats: it counted one tick,
  // not the two hundred it slept through, and stood for nothing.
  CHECK(cluster.leader() == leader);
  CHECK(cluster.status(follower).term == term);
  CHECK(cluster.status(leader).term == term);
}

TEST_CASE("injected bug follower-local-reads: a cut-off follower answers a read from its stale state",
          "[actors][sim][bugs]") {
  const bool bug = GENERATE(false, true);
  bugs::scoped_bugs guard(bug ? bugs::bit(bugs::bug::follower_local_reads) : 0);
  harness h(15);
  sim::sim_cluster& cluster = h.cluster;
  std::vector<actors::read_outcome> reads;
  constexpr sim::node_id reader = 1002;
  cluster.sim().network().attach(reader, cluster.sim().spawn(read_recorder, &reads));
  const std::uint64_t session = h.open_session(1);
  REQUIRE(session > 0);
  const sim::node_id leader = h.await_leader();
  const auto set = [&](std::uint64_t sequence, std::string value) {
    replicated::client_write write;
    write.session = session;
    write.sequence = sequence;
    write.lowest_unanswered = sequence;
    write.command = {.kind = operation_kind::set, .key = "k", .value = value};
    std::string bytes;
    replicated::encode_client_write(write, bytes);
    const std::size_t before = h.outcomes.size();
    cluster.sim().network().route(client_address, leader,
                                  caf::make_message(propose_command{client_address, 10 + sequence, bytes}));
    REQUIRE(cluster.sim().run_until([&] { return h.outcomes.size() > before; }, cluster.sim().now_ns() + 5 * second));
    REQUIRE(h.outcomes.back().code == 0);
    return h.outcomes.back().log_index;
  };
  const std::uint64_t first = set(1, "v1");
  REQUIRE(cluster.sim().run_until([&] { return h.all_applied(first); }, cluster.sim().now_ns() + 5 * second));
  const sim::node_id follower = leader % 3 + 1;
  cluster.cuts().isolate(follower, {1, 2, 3});
  set(2, "v2");  // committed by the leader and the other follower
  // Marked as forwarded already, so that a sound follower refuses it rather than forwarding it into the cut.
  cluster.sim().network().route(
      reader, follower,
      caf::make_message(actors::read_command{reader, 9, "k", static_cast<std::uint8_t>(actors::read_kind::get), true}));
  REQUIRE(cluster.sim().run_until([&] { return !reads.empty(); }, cluster.sim().now_ns() + 5 * second));
  const actors::read_outcome& got = reads.back();
  if (bug) {
    CHECK(got.code == 0);
    CHECK(got.found);
    CHECK(got.value == "v1");  // stale: "v2" was acknowledged before the read began
    CHECK(got.index == 1);
  } else {
    CHECK(got.code == static_cast<std::uint8_t>(error_code::unavailable));
    CHECK(got.leader == leader);
  }
}

TEST_CASE("injected bug ack-before-durable: acknowledged entries are gone after every node crashed",
          "[actors][sim][bugs]") {
  const bool bug = GENERATE(false, true);
  bugs::scoped_bugs guard(bug ? bugs::bit(bugs::bug::ack_before_durable) : 0);
  // A crash keeps, drops or tears what was not synced, at random: over a
  // few seeds the bug loses acknowledged writes at least once, sound nodes never.
  int lost = 0;
  for (std::uint64_t seed = 16; seed < 24; ++seed) {
    harness h(seed);
    std::uint64_t acknowledged = 0;
    for (std::uint64_t request = 1; request <= 5; ++request) acknowledged = h.open_session(request);
    REQUIRE(acknowledged > 0);
    h.cluster.sim().run_until(h.cluster.sim().now_ns() + second / 2);  // quiet: every sync under way completes
    std::uint64_t unsynced = 0;
    for (sim::node_id id = 1; id <= 3; ++id) {
      const std::uint64_t before = h.cluster.disk(id).stats().unsynced_files;
      h.cluster.crash(id);
      unsynced += h.cluster.disk(id).stats().unsynced_files - before;
    }
    // Every node's log holds acknowledged entries its disk never synced (a
    // sound node may leave only its latest commit index unsynced: ready.hpp).
    if (bug) CHECK(unsynced == 3);
    for (sim::node_id id = 1; id <= 3; ++id) h.cluster.restart(id);
    // The next write lands after the acknowledged ones, unless those were lost.
    const std::uint64_t next = h.open_session(6);
    INFO("seed " << seed << ": the last acknowledged write was at " << acknowledged << ", the next one at " << next);
    REQUIRE(next > 0);
    if (!bug) CHECK(next > acknowledged);
    if (next <= acknowledged) ++lost;
  }
  CHECK((lost > 0) == bug);
}
