#include "sim/run/end_of_run_checks.hpp"

#include <map>

#include "check/linearizability/checker.hpp"
#include "store/command.hpp"

namespace dkv::sim {

using check::history;
using check::operation;
using check::outcome;

namespace {

std::optional<operation_kind> kind_of(const std::string& f) {
  static const std::map<std::string, operation_kind, std::less<>> kinds = {
      {"set", operation_kind::set},
      {"setE", operation_kind::set_e},
      {"setEIfUnset", operation_kind::set_e_if_unset},
      {"expire", operation_kind::expire},
      {"delete", operation_kind::remove},
      {"deleteIfValue", operation_kind::remove_if_value},
  };
  const auto it = kinds.find(f);
  if (it == kinds.end()) return std::nullopt;
  return it->second;
}

std::uint64_t fingerprint_of(const operation& op, operation_kind kind) {
  return fingerprint(write_command{kind, op.key, op.value, op.expire_in, op.delete_in});
}

std::string describe(const operation& op) {
  return op.f + "(" + op.key + (op.value.empty() ? "" : ", " + op.value) + ") of process " + std::to_string(op.process);
}

// Merges every node's (index, fingerprint) records into one map; the first
// disagreement is an error.
template <class Records>
bool merge(const sim_cluster& cluster, Records records, std::map<std::uint64_t, std::uint64_t>& common,
           const char* what, std::string& problem) {
  for (node_id id : cluster.node_ids())
    for (const auto& [index, print] : records(cluster.status(id))) {
      const auto [it, fresh] = common.emplace(index, print);
      if (!fresh && it->second != print) {
        problem = "node " + std::to_string(id) + " applied another " + what + " at index " + std::to_string(index);
        return false;
      }
    }
  return true;
}

void point_at(check_result& r, const operation& op) {
  r.at_ns = op.call_ns;
  r.process = op.process;
}

}  // namespace

check_result check_linearizability(const history& h) {
  check::check_options options;
  options.model = check::model_kind::dkv;
  options.threads = 1;  // the verdict does not depend on it; the simulation stays on one thread
  const check::check_report report = check::check_history(h, options);
  check_result r{"linearizability", report.ok(), ""};
  if (r.passed)
    r.detail = std::to_string(h.operations.size()) + " operations, " + std::to_string(report.partitions) + " keys";
  else
    r.detail = (report.result == check::verdict::unknown ? "undecided: " : "") + report.explanation +
               (report.part.empty() ? "" : " (key " + report.part + ")");
  if (!r.passed) r.key = report.part;
  if (const auto op = check::failing_operation(h, report)) point_at(r, h.operations[*op]);
  return r;
}

check_result check_agreement(const sim_cluster& cluster, const history& h) {
  check_result r{"agreement", false, ""};
  std::map<std::uint64_t, std::uint64_t> entries, writes;
  if (!merge(
          cluster, [](const actors::raft_node_status& s) { return s.applied_log; }, entries, "entry", r.detail) ||
      !merge(
          cluster, [](const actors::raft_node_status& s) { return s.applied_writes; }, writes, "store write", r.detail))
    return r;
  std::uint64_t expected = 1;
  for (const auto& [index, print] : writes) {
    if (index != expected) {
      r.detail = "no replica applied a store write at index " + std::to_string(expected);
      return r;
    }
    ++expected;
  }

  // Each write applies at most once, and one reported failed never: per
  // fingerprint, applications <= invocations - failures.
  struct tally {
    std::size_t invoked = 0, failed = 0, applied = 0;
    const operation* example = nullptr;
  };
  std::map<std::uint64_t, tally> tallies;
  for (const operation& op : h.operations)
    if (const auto kind = kind_of(op.f)) {
      tally& t = tallies[fingerprint_of(op, *kind)];
      ++t.invoked;
      if (op.result == outcome::fail) ++t.failed;
      if (!t.example || op.result == outcome::fail) t.example = &op;
    }
  for (const auto& [index, print] : writes) {
    tally& t = tallies[print];
    if (++t.applied <= t.invoked - t.failed) continue;
    r.detail = t.example ? describe(*t.example) + " was applied " + std::to_string(t.applied) + " times (invoked " +
                               std::to_string(t.invoked) + ", reported failed " + std::to_string(t.failed) + ")"
                         : "the write at store index " + std::to_string(index) + " was never invoked";
    if (t.example) point_at(r, *t.example);
    return r;
  }

  std::size_t acknowledged = 0;
  for (const operation& op : h.operations) {
    const auto kind = kind_of(op.f);
    if (!kind) continue;
    const std::uint64_t print = fingerprint_of(op, *kind);
    if (op.result == outcome::ok && op.index) {
      ++acknowledged;
      const auto it = writes.find(*op.index);
      if (it == writes.end() || it->second != print) {
        r.detail =
            "acknowledged " + describe(op) + " is not the write applied at its index " + std::to_string(*op.index);
        point_at(r, op);
        return r;
      }
    }
  }
  r.passed = true;
  r.detail = std::to_string(entries.size()) + " log entries, " + std::to_string(writes.size()) + " store writes, " +
             std::to_string(acknowledged) + " acknowledged writes in place";
  return r;
}

std::string quiesce(sim_cluster& cluster, std::uint64_t deadline_ns) {
  std::string split_brain;
  const auto done = [&cluster, &split_brain] {
    std::map<raft::term_t, node_id> leaders;
    for (node_id id : cluster.node_ids()) {
      const actors::raft_node_status& s = cluster.status(id);
      if (!cluster.up(id) || s.stopped || s.role != raft::role::leader) continue;
      const auto [it, fresh] = leaders.emplace(s.term, id);
      if (!fresh) {
        split_brain = "nodes " + std::to_string(it->second) + " and " + std::to_string(id) + " both lead term " +
                      std::to_string(s.term);
        return true;
      }
    }
    const auto leader = cluster.leader();
    if (!leader) return false;
    const actors::raft_node_status& held = cluster.status(*leader);
    if (!held.config_committed) return false;  // a change under way: members may not hold it yet
    for (node_id id : cluster.members()) {
      const actors::raft_node_status& s = cluster.status(id);
      if (!cluster.up(id)) continue;
      if (s.stopped || s.applied != held.commit || s.config != held.config) return false;
    }
    return true;
  };
  const std::uint64_t seconds = (deadline_ns - cluster.sim().now_ns()) / 1'000'000'000;
  if (!cluster.sim().run_until(done, deadline_ns))
    return "the cluster did not quiesce within " + std::to_string(seconds) + " s";
  return split_brain.empty() ? "" : "the cluster cannot quiesce: " + split_brain;
}

check_result check_convergence(const sim_cluster& cluster) {
  check_result r{"convergence", false, ""};
  std::optional<node_id> first;
  std::size_t live = 0;
  for (node_id id : cluster.members()) {
    const actors::raft_node_status& s = cluster.status(id);
    if (!cluster.up(id) || s.stopped) {
      r.detail = "node " + std::to_string(id) + " is down";
      return r;
    }
    ++live;
    if (!first) {
      first = id;
      continue;
    }
    const actors::raft_node_status& f = cluster.status(*first);
    if (s.applied != f.applied || s.engine_digest != f.engine_digest || s.sessions_digest != f.sessions_digest) {
      const auto show = [](const actors::raft_node_status& n) {
        return "(applied " + std::to_string(n.applied) + ", engine " + std::to_string(n.engine_digest) + ", sessions " +
               std::to_string(n.sessions_digest) + ")";
      };
      r.detail =
          "node " + std::to_string(id) + " " + show(s) + " differs from node " + std::to_string(*first) + " " + show(f);
      return r;
    }
  }
  r.passed = true;
  r.detail = std::to_string(live) + " replicas at log index " + std::to_string(cluster.status(*first).applied) +
             " with equal engine and session digests";
  return r;
}

check_result check_elections(const sim_cluster& cluster) {
  std::map<raft::term_t, node_id> leaders;
  for (node_id id : cluster.node_ids())
    for (raft::term_t term : cluster.status(id).led_terms) {
      const auto [it, fresh] = leaders.emplace(term, id);
      if (!fresh && it->second != id)
        return {"elections", false,
                "nodes " + std::to_string(it->second) + " and " + std::to_string(id) + " both led term " +
                    std::to_string(term)};
    }
  return {"elections", true, std::to_string(leaders.size()) + " terms with a leader, one leader each"};
}

check_result check_storage(const sim_cluster& cluster, const std::set<node_id>& damaged) {
  std::uint64_t repairs = 0;
  for (node_id id : cluster.node_ids()) {
    const std::uint64_t n = cluster.status(id).repairs;
    repairs += n;
    if (n > 0 && !damaged.count(id))
      return {"storage", false,
              "node " + std::to_string(id) +
                  " found its storage damaged though no fault damaged its disk: recovery must cut what a crash tore, "
                  "silently"};
  }
  return {"storage", true,
          std::to_string(repairs) + " repairs, all on the " + std::to_string(damaged.size()) + " damaged or lost disks"};
}

bool membership_done(const actors::raft_node_status& leader, node_id id, fault_kind change) {
  const raft::membership& c = leader.config;
  const bool done = change == fault_kind::add_server    ? c.is_voter(id)
                    : change == fault_kind::add_learner ? c.is_learner(id)
                                                        : !c.contains(id);
  return done && leader.config_committed;
}

check_result check_membership(const sim_cluster& cluster, const std::map<node_id, fault_kind>& wanted) {
  check_result r{"membership", false, ""};
  const std::optional<node_id> leader = cluster.leader();
  if (!leader) {
    r.detail = "no leader to hold the configuration";
    return r;
  }
  const actors::raft_node_status& held = cluster.status(*leader);
  const auto show = [](const actors::raft_node_status& s) {
    std::string text = "voters";
    for (raft::node_id id : s.config.voters) text += " " + std::to_string(id);
    text += ", learners";
    for (raft::node_id id : s.config.learners) text += " " + std::to_string(id);
    return text + (s.config.learners.empty() ? " none" : "") + (s.config_committed ? "" : " (not committed)");
  };
  for (const auto& [id, change] : wanted)
    if (!membership_done(held, id, change)) {
      r.detail = "node " + std::to_string(id) + " was to be " +
                 (change == fault_kind::add_server    ? "a voter"
                  : change == fault_kind::add_learner ? "a learner"
                                                      : "removed") +
                 ", but leader " + std::to_string(*leader) + " holds " + show(held);
      return r;
    }
  for (node_id id : cluster.members()) {
    const actors::raft_node_status& s = cluster.status(id);
    if (s.config != held.config) {
      r.detail = "member " + std::to_string(id) + " holds " + show(s) + ", leader " + std::to_string(*leader) +
                 " holds " + show(held);
      return r;
    }
  }
  r.passed = true;
  r.detail = std::to_string(wanted.size()) + " nodes as asked; every member holds " + show(held);
  return r;
}

check_result check_stable_leader(const sim_cluster& cluster) {
  std::set<std::pair<raft::term_t, node_id>> led;
  for (node_id id : cluster.node_ids())
    for (raft::term_t term : cluster.status(id).led_terms) led.emplace(term, id);
  if (led.size() <= 1)
    return {"stable-leader", true,
            led.empty() ? "no leader at all"
                        : "node " + std::to_string(led.begin()->second) + " led the whole run, in term " +
                              std::to_string(led.begin()->first)};
  std::string terms;
  for (const auto& [term, id] : led)
    terms += (terms.empty() ? "" : ", ") + std::to_string(id) + " in term " + std::to_string(term);
  return {"stable-leader", false, "the leadership changed though no fault should depose a leader: " + terms};
}

check_result check_after_healing(check_result r, const check::history& h, std::uint64_t unanswered,
                                 std::uint64_t from_ns, bool roomy) {
  if (!r.passed) return r;
  if (unanswered > 0) return {r.name, false, std::to_string(unanswered) + " calls were never answered"};
  if (!roomy) return r;
  for (const operation& op : h.operations)
    if (op.call_ns >= from_ns && op.result != outcome::ok) {
      r.passed = false;
      r.detail = "after healing, " + op.f + "(" + op.key + ") of process " + std::to_string(op.process) + " at " +
                 std::to_string(op.call_ns / 1'000'000) + " ms ended " +
                 (op.result == outcome::fail ? "fail" : "info") + " (code " + std::to_string(op.code) + ")";
      r.at_ns = op.call_ns;
      r.process = op.process;
      return r;
    }
  r.detail += "; every operation after it succeeded";
  return r;
}

}  // namespace dkv::sim
