#pragma once
// A small in-process network of Raft replicas for tests — no CAF, no clock.
// Every message sits in one pool until the test (or a seeded schedule)
// delivers, drops or duplicates it, so any order of events can be produced.
// Each node has a memory disk and a queue of readies handed out but not yet
// persisted; a crash may land anywhere in that queue. A checker looks at the
// cluster after every step and records the first broken Raft guarantee.

#include <cstdint>
#include <map>
#include <ostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/raft/replica.hpp"

namespace dkv::raft::testing {

// The test's state machine: a running digest of every applied entry, so
// replicas (and snapshots) can be compared at any index in O(1).
struct digest_machine {
  index_t applied = 0;
  std::uint64_t digest = 0;
  void apply(const entry& e);
  std::string snapshot() const;
  bool restore(std::string_view bytes);
};

struct node {
  node_id id = no_node;
  std::unique_ptr<replica> raft;  // null while crashed
  memory_storage disk;
  std::vector<ready> unpersisted;  // handed out, not yet on disk
  digest_machine machine;
  std::vector<read_state> reads_served;
  std::vector<std::uint64_t> reads_failed;
  std::uint64_t restarts = 0;
  bool up() const noexcept { return raft != nullptr; }
};

class raft_cluster {
 public:
  // Nodes 1..voters are the founding voters; nodes voters+1..voters+spares
  // start empty (candidates for membership changes).
  raft_cluster(std::size_t voters, std::uint64_t seed, options base = {}, std::size_t spares = 0);

  node& at(node_id id) { return nodes_.at(id - 1); }
  replica& raft(node_id id) { return *at(id).raft; }
  std::size_t size() const noexcept { return nodes_.size(); }

  // Persist each ready as soon as it is handed out (the default), or leave
  // it queued until persist_one() (to place crashes between write and ack).
  bool auto_persist = true;
  // When set, every delivered message is described here (replays).
  std::ostream* trace = nullptr;

  // Hands out the readies of every live node until nothing moves: messages
  // go to the pool, committed entries to the machine.
  void process();
  void process(node_id id);
  // Completes the oldest queued write of a node.
  bool persist_one(node_id id);
  // Completes all of a node's queued writes with one sync (group commit).
  bool persist_all(node_id id);

  // The message pool.
  const std::vector<message>& pool() const noexcept { return pool_; }
  void deliver(std::size_t k);  // and removes it from the pool
  void drop(std::size_t k);
  void duplicate(std::size_t k);  // delivers a copy, keeps the original
  // Delivers (and processes) until the pool is empty or `limit` messages went.
  std::size_t deliver_all(std::size_t limit = 1'000'000);
  // Drops every pooled message matching a predicate.
  template <typename Pred>
  void drop_if(Pred pred) {
    std::erase_if(pool_, pred);
  }

  void tick(node_id id, std::uint32_t ticks = 1);
  void tick_all();

  // Links: a message from a to b is lost when the link is cut.
  void isolate(node_id id);
  void partition(const std::set<node_id>& side);  // side vs. everyone else
  void cut(node_id from, node_id to) { cut_.insert({from, to}); }
  void heal() { cut_.clear(); }
  bool connected(node_id from, node_id to) const { return !cut_.count({from, to}); }

  // Crash: volatile state is lost; of the queued writes, the first `written`
  // reached the disk (the rest never did). Restart recovers from the disk.
  void crash(node_id id, std::size_t written = 0);
  void restart(node_id id);

  // Takes a state-machine snapshot at the node's applied index.
  bool compact(node_id id);

  // Runs ticks (delivering everything in between) until a leader exists.
  std::optional<node_id> elect_someone(std::size_t max_ticks = 1000);
  // Makes `id` leader by campaigning and delivering everything.
  void elect(node_id id);
  std::optional<node_id> leader() const;  // the live leader with the highest term

  // ---- safety: checked after every step, first failure kept ----
  void check();
  const std::string& failure() const noexcept { return failure_; }
  // One line per node: role, term, vote, log, commit, membership.
  std::string summary() const;
  const std::map<index_t, std::uint64_t>& committed_digests() const { return digest_at_; }

 private:
  void handle(node& n, ready r);
  void apply(node& n, const ready& r);
  void fail(std::string why);
  void route(message m);
  // A message reaches its destination, unless the node is down or the link cut.
  void arrive(const message& m);

  options base_;
  std::uint64_t seed_;
  std::vector<node> nodes_;
  std::vector<message> pool_;
  std::set<std::pair<node_id, node_id>> cut_;

  // what the checker remembers
  std::string failure_;
  std::map<term_t, node_id> leader_of_term_;
  std::map<index_t, std::uint64_t> digest_at_;  // the digest after applying each index
  std::map<index_t, entry> committed_;          // every entry some machine applied
  struct commit_record {
    term_t term;  // the term of the leader that committed it
    entry committed;
  };
  std::map<index_t, commit_record> commits_;  // every entry a leader committed
  index_t commits_recorded_ = 0;
  struct leader_log {
    term_t term = 0;
    std::uint64_t restarts = 0;
    std::vector<std::pair<index_t, term_t>> entries;
  };
  std::map<node_id, leader_log> leader_logs_;
};

}  // namespace dkv::raft::testing
