// Members introduce themselves (store/raft/identity.hpp): a member whose
// storage was lost learns it from a peer that knew it, and repairs before it
// votes; a member that is new votes only once every other voter knows it.

#include <catch2/catch.hpp>

#include "store/bugs.hpp"
#include "tests/raft/raft_cluster.hpp"

using namespace dkv::raft;
using dkv::raft::testing::raft_cluster;
namespace bugs = dkv::bugs;

namespace {

void commit_some(raft_cluster& c, node_id leader, int count) {
  for (int i = 0; i < count; ++i) {
    REQUIRE(c.raft(leader).propose(payload::copy_of("w")).ok());
    c.deliver_all();
  }
}

void run_ticks(raft_cluster& c, std::initializer_list<node_id> nodes, int ticks) {
  for (int t = 0; t < ticks; ++t) {
    for (node_id id : nodes) c.tick(id);
    c.deliver_all();
  }
}

// The double fault: node 2 misses the writes, nodes 1 and 3 hold
// them; then 1 and 3 go down, and 3 comes back with an empty disk.
void lose_node_3_while_2_lags(raft_cluster& c) {
  c.elect(1);
  c.crash(2);
  commit_some(c, 1, 5);
  c.crash(1);
  c.crash(3);
  c.at(3).disk.lose_everything();
  c.restart(2);
  c.restart(3);
  c.deliver_all();
}

}  // namespace

TEST_CASE("introductions: founders all know each other before anyone stands") {
  raft_cluster c(3, 41);
  for (node_id id = 1; id <= 3; ++id) {
    CHECK_FALSE(c.raft(id).introducing());
    CHECK(c.at(id).disk.state().identity.introduced);
    for (node_id other = 1; other <= 3; ++other)
      if (other != id) CHECK(c.at(other).disk.state().identity.known_as(id) == c.raft(id).identity().incarnation);
  }
}

TEST_CASE("introductions: a member whose storage was lost is told so, and the cluster waits for one that remembers") {
  raft_cluster c(3, 42);
  lose_node_3_while_2_lags(c);
  CHECK(c.raft(3).repairing());
  CHECK(c.at(3).disk.state().needs_repair);  // a crash now does not forget it
  run_ticks(c, {2, 3}, 200);
  CHECK_FALSE(c.leader());  // node 2 alone lacks the writes; node 3 may not vote for it
  // Node 1 returns: it leads, and node 3 catches up and votes again.
  c.restart(1);
  REQUIRE(c.elect_someone(300));
  c.deliver_all();
  run_ticks(c, {1, 2, 3}, 20);
  CHECK_FALSE(c.raft(3).repairing());
  CHECK_FALSE(c.at(3).disk.state().needs_repair);
  CHECK(c.raft(3).log().last_index() == c.raft(*c.leader()).log().last_index());
  CHECK(c.failure() == "");
}

TEST_CASE("introductions: a repair learnt from a peer survives a crash before it is done") {
  raft_cluster c(3, 43);
  lose_node_3_while_2_lags(c);
  REQUIRE(c.raft(3).repairing());
  c.crash(3);
  c.restart(3);
  c.deliver_all();
  CHECK(c.raft(3).repairing());
  run_ticks(c, {2, 3}, 200);
  CHECK_FALSE(c.leader());
  CHECK(c.failure() == "");
}

TEST_CASE("introductions: with the check off (amnesiac-votes), the double fault loses committed writes") {
  bugs::scoped_bugs on(bugs::bit(bugs::bug::amnesiac_votes));
  raft_cluster c(3, 42);
  lose_node_3_while_2_lags(c);
  CHECK_FALSE(c.raft(3).repairing());
  run_ticks(c, {2, 3}, 200);
  REQUIRE(c.leader());  // elected by a member that forgot what it promised
  c.restart(1);
  run_ticks(c, {1, 2, 3}, 50);
  CHECK(c.failure() != "");
}

TEST_CASE("introductions: a learner is promoted only once every voter knows it") {
  raft_cluster c(3, 44, {}, 1);
  c.elect(1);
  c.isolate(2);  // node 4 cannot meet node 2 for now
  REQUIRE(c.raft(1).change_membership(change_kind::add_server, 4).ok());
  run_ticks(c, {1, 3, 4}, 100);
  INFO(c.summary());
  REQUIRE(c.raft(1).config().is_learner(4));
  CHECK(c.raft(4).introducing());
  CHECK(c.raft(1).is_leader());  // it still leads: the learner is not a voter it cannot count
  c.heal();
  run_ticks(c, {1, 2, 3, 4}, 100);
  CHECK_FALSE(c.raft(4).introducing());
  CHECK(c.raft(1).config().is_voter(4));
  CHECK(c.at(2).disk.state().identity.known_as(4) == c.raft(4).identity().incarnation);
  CHECK(c.failure() == "");
}
