#pragma once
// What the nodes of a real run say of themselves: every 50 ms each node
// that runs and is not paused is asked for its status (role, term, leader,
// commit, applied; docs/protocol.md). From the answers come the leader that
// `node = "leader"` faults strike, the node lanes of the history (a `node`
// event at each change of role or term), quiescing, and three checks:
// elections, stable leader and — with the digests asked once the cluster is
// quiet — convergence.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "real/run/real_cluster.hpp"
#include "real/run/run_loop.hpp"
#include "sim/run/end_of_run_checks.hpp"
#include "sim/run/history_recorder.hpp"

namespace dkv::real {

inline constexpr std::uint64_t status_every_ns = 50 * ms_ns;

class cluster_watch {
 public:
  cluster_watch(run_loop& loop, const real_cluster& cluster, std::uint64_t shard);

  // Asks every 50 ms from now until stop().
  void start();
  void stop() { stopped_ = true; }
  // From now on each change of a node's role or term goes into `history`,
  // the roles known now first (at the run clock's now).
  void record_into(sim::history_recorder* history);
  // A node went down: its next status, after a restart, is news.
  void forget(node_id id) { statuses_.erase(id); }

  // The running node that the freshest status names leader, in the highest term.
  std::optional<node_id> leader() const;
  // Every node's fresh status has applied what the leader committed.
  bool quiet() const;
  // The last statuses, one line (for a check that failed to quiesce).
  std::string describe() const;
  std::size_t answers() const noexcept { return answers_; }

  sim::check_result elections() const;
  sim::check_result stable_leader() const;
  // Asks each node for its digests (once quiet): equal applied index, engine and sessions.
  sim::check_result convergence();

 private:
  struct node_status {
    std::string role;
    std::uint64_t term = 0;
    std::uint64_t commit = 0;
    std::uint64_t applied = 0;
    std::uint64_t at_ns = 0;
  };
  void poll();
  void took(node_id id, const net::message& response);

  run_loop& loop_;
  const real_cluster& cluster_;
  std::uint64_t shard_;
  std::vector<std::shared_ptr<net::remote_client>> clients_;  // one per node, by id - 1
  std::map<node_id, node_status> statuses_;
  std::map<std::uint64_t, std::set<node_id>> leaders_;  // by term: the nodes whose status said they led it
  sim::history_recorder* history_ = nullptr;
  std::size_t answers_ = 0;
  bool stopped_ = false;
};

}  // namespace dkv::real
