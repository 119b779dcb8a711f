// Membership changes through raft_node (membership_command): only the
// leader takes one, and says why it refuses; servers added to a running
// simulated cluster catch up and then vote, so that the founders can all
// leave and the newcomers alone carry on.

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <optional>

#include "actors/messages.hpp"
#include "sim/cluster/sim_client.hpp"
#include "sim/cluster/sim_cluster.hpp"

using namespace dkv;
using actors::membership_change;
using actors::membership_command;
using actors::membership_outcome;

namespace {

constexpr std::uint64_t second = 1'000'000'000;

// Asks the node it is sent with a command, as an operator's tool would, and
// keeps the answer.
caf::behavior asker(caf::event_based_actor* self, std::optional<membership_outcome>* answer) {
  return {[=](const caf::actor& node, const membership_command& command) {
    self->request(node, caf::infinite, command).then([=](const membership_outcome& o) { *answer = o; });
  }};
}

struct operator_tool {
  sim::sim_cluster& cluster;
  std::optional<membership_outcome> answer;
  caf::actor self;

  explicit operator_tool(sim::sim_cluster& c) : cluster(c), self(c.sim().spawn(asker, &answer)) {}

  membership_outcome ask(const caf::actor& node, membership_change change, sim::node_id id) {
    answer.reset();
    caf::anon_send(self, node, membership_command{static_cast<std::uint8_t>(change), id});
    REQUIRE(cluster.sim().run_until([&] { return answer.has_value(); }, cluster.sim().now_ns() + second));
    return *answer;
  }
};

sim::node_id await_leader(sim::sim_cluster& cluster) {
  REQUIRE(cluster.sim().run_until([&] { return cluster.leader().has_value(); }, cluster.sim().now_ns() + 10 * second));
  return *cluster.leader();
}

// Asks the leader of the moment until its configuration shows the change.
void change(sim::sim_cluster& cluster, sim::fault_kind kind, sim::node_id id) {
  const auto done = [&] {
    const auto leader = cluster.leader();
    if (!leader) return false;
    const auto& s = cluster.status(*leader);
    return kind == sim::fault_kind::remove_server ? !s.config.contains(id) : s.config.is_voter(id);
  };
  for (int attempt = 0; attempt < 100 && !done(); ++attempt) {
    cluster.change_membership(kind, id);
    cluster.sim().run_until(done, cluster.sim().now_ns() + second / 10);
  }
  REQUIRE(done());
}

}  // namespace

TEST_CASE("only the leader takes a membership change, one at a time, and says why it refuses one", "[actors][sim]") {
  sim::sim_cluster cluster(3, {.nodes = 5, .founders = 3, .node = {}, .disk = {}, .configure = {}});
  operator_tool tool(cluster);
  const sim::node_id leader = await_leader(cluster);
  const sim::node_id follower = leader == 1 ? 2 : 1;
  sim::sim_client client(cluster);
  REQUIRE(
      client.store()->Set("k", "v").err.ok());  // the leader has committed in its term: it may change the configuration

  membership_outcome o = tool.ask(cluster.actor(follower), membership_change::add_server, 4);
  CHECK(o.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK(o.refusal == "not leader");
  CHECK(o.leader == leader);

  o = tool.ask(cluster.actor(leader), membership_change::add_server, follower);
  CHECK(o.code == static_cast<std::uint8_t>(error_code::invalid_operation));
  CHECK(o.refusal == "invalid membership change");
  o = tool.ask(cluster.actor(leader), membership_change{9}, 4);
  CHECK(o.code == static_cast<std::uint8_t>(error_code::invalid_operation));
  CHECK(o.refusal == "no such change");

  o = tool.ask(cluster.actor(leader), membership_change::add_learner, 4);
  CHECK(o.code == 0);
  CHECK(o.log_index > 0);
  // The first change is not committed yet: the second waits its turn.
  o = tool.ask(cluster.actor(leader), membership_change::add_learner, 5);
  CHECK(o.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK(o.refusal == "a membership change is in progress");

  // A learner receives the log but does not vote.
  REQUIRE(cluster.sim().run_until([&] { return cluster.status(4).applied >= cluster.status(leader).commit; },
                                  cluster.sim().now_ns() + 5 * second));
  CHECK(cluster.status(leader).config.is_learner(4));
  CHECK_FALSE(cluster.status(leader).config.is_voter(4));
  CHECK(cluster.status(4).config.is_learner(4));
  CHECK(cluster.status(5).config.voters.empty());  // never added: it knows no configuration at all
}

TEST_CASE("servers added to a running cluster catch up and vote, so the founders can all leave", "[actors][sim]") {
  sim::sim_cluster cluster(5, {.nodes = 5, .founders = 3, .node = {}, .disk = {}, .configure = {}});
  sim::sim_client client(cluster);
  const auto store = client.store();
  await_leader(cluster);
  for (int i = 0; i < 20; ++i) REQUIRE(store->Set("before-" + std::to_string(i), "v").err.ok());

  change(cluster, sim::fault_kind::add_server, 4);
  change(cluster, sim::fault_kind::add_server, 5);
  for (sim::node_id founder = 1; founder <= 3; ++founder) change(cluster, sim::fault_kind::remove_server, founder);

  // A leader that removed itself leads until the change commits, then steps down.
  REQUIRE(cluster.sim().run_until([&] { return cluster.leader() > 3; }, cluster.sim().now_ns() + 10 * second));
  const sim::node_id leader = *cluster.leader();
  CHECK(cluster.status(leader).config.voters == std::vector<raft::node_id>{4, 5});
  CHECK(cluster.members() == std::vector<sim::node_id>{4, 5});
  // The founders are gone for good: the newcomers hold everything and decide alone.
  for (sim::node_id founder = 1; founder <= 3; ++founder) cluster.crash(founder);
  REQUIRE(store->Set("after", "w").err.ok());
  for (int i = 0; i < 20; ++i) CHECK(store->Get("before-" + std::to_string(i)).value == "v");
  CHECK(store->Get("after").value == "w");
}
