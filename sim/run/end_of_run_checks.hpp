#pragma once
// The checks that judge a simulated run (issue: "end-of-run checks"), for
// every test and for dkv-sim:
//
//   linearizability — the history against the dkv model of docs/spec.md,
//       by check::check_history (check/linearizability/checker.hpp);
//   agreement — every replica, in every incarnation, applied the same entry
//       at each log index and the same store write at each store index;
//       together they form one sequence with no holes; every acknowledged
//       write is in it at its reported index; and no write is in it more
//       often than it was invoked and not reported failed (nothing applied
//       twice, no Unavailable that was a lie);
//   convergence — once the cluster is quiet, every member of its latest
//       configuration is up and has applied the same prefix, and its engine
//       and session table have the same digests;
//   elections — at most one leader in any term, over every incarnation;
//   storage — no node found its storage damaged unless a fault damaged its
//       disk: what a crash tears must be cut at recovery, silently;
//   membership — with membership changes asked for: the configuration ends
//       as the last change asked for each node says, and every member holds
//       that same configuration.
// Liveness needs driving the cluster, so it lives with the run (random_run).
// The cluster's nodes must run with observe_state.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/cluster/sim_cluster.hpp"
#include "check/history/history.hpp"

namespace dkv::sim {

struct check_result {
  std::string name;
  bool passed = false;
  std::string detail;    // what was checked, or the first thing that is wrong
  std::string key = {};  // linearizability: the key whose operations cannot be ordered
  bool skipped = false;  // not run (a real run cannot see what it needs): `detail` says why; counts as passed
  // Where the failure shows on the history's timeline, when the check can
  // tell: a moment (a deadline, an operation's call), and the process whose
  // operation was called then, if it is one. The HTML report marks it.
  std::optional<std::uint64_t> at_ns = {};
  std::optional<std::uint32_t> process = {};
};

check_result check_linearizability(const check::history& h);
check_result check_agreement(const sim_cluster& cluster, const check::history& h);
check_result check_convergence(const sim_cluster& cluster);
check_result check_elections(const sim_cluster& cluster);
check_result check_storage(const sim_cluster& cluster, const std::set<node_id>& damaged);
// Whether a leader's status shows `change` for `id` done and committed
// (add_server: a voter; add_learner: a learner; remove_server: neither).
bool membership_done(const actors::raft_node_status& leader, node_id id, fault_kind change);
// `wanted`: for each node, the last membership change asked for it.
check_result check_membership(const sim_cluster& cluster, const std::map<node_id, fault_kind>& wanted);
// Liveness goes on after the probe `live` (passed): every call is answered
// (`unanswered` of them were not) and every operation invoked from `from_ns`
// on succeeded — unless the cluster is configured tighter than its workload
// (too few sessions or queue slots: not `roomy`), when it may rightly refuse.
check_result check_after_healing(check_result live, const check::history& h, std::uint64_t unanswered,
                                 std::uint64_t from_ns, bool roomy);
// Only for runs whose faults must not depose a leader: one term led in all.
check_result check_stable_leader(const sim_cluster& cluster);

// Runs the cluster until every live member has applied what the leader has
// committed; empty if it got there, else why not: the deadline passed, or
// two live nodes lead the same term (a split brain that only a bug makes,
// and that would keep both busy to the deadline).
std::string quiesce(sim_cluster& cluster, std::uint64_t deadline_ns);

}  // namespace dkv::sim
