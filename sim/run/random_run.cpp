#include "sim/run/random_run.hpp"

#include <algorithm>
#include <iomanip>
#include <optional>

#include "sim/faults/fault_schedule.hpp"
#include "store/assert.hpp"
#include "store/raft/replica.hpp"

namespace dkv::sim {

namespace {

constexpr std::uint64_t vote_crash_stream = 0x766f7465;  // "vote"
constexpr std::uint64_t win_fault_stream = 0x77696e;     // "win"
constexpr std::uint64_t second = 1'000'000'000;
constexpr std::uint64_t membership_retry_ns = 100'000'000;

class random_run {
 public:
  explicit random_run(const run_options& o)
      : options_(o), cluster_(o.seed, cluster_options(o)), recorder_(o.check ? o.history : nullptr) {
    nodes_ = cluster_.node_ids();
    recorder_.meta(0, o.seed, "random", o.nodes);
    written_.resize(nodes_.size());
  }

  run_report run() {
    if (options_.check) cluster_.sim().observe_steps([this] { record_node_states(); });
    try {
      drive();
    } catch (const dkv::broken_invariant& failed) {
      // A DKV_ASSERT failed and the simulation stopped there: that is the
      // run's verdict, and what the other checks would say of a cluster
      // stopped mid-step is moot.
      report_.checks.assign(1, check_result{"invariants", false, failed.what()});
      report_.checks.front().at_ns = cluster_.sim().now_ns();
    }
    cluster_.sim().observe_steps(nullptr);
    summarize();
    return report_;
  }

 private:
  void drive() {
    simulator& sim = cluster_.sim();
    sim.limit_steps(step_budget());
    sim.trace().keep_events(options_.keep_trace);
    sim.network().set_faults(options_.faults ? options_.network : calm(options_.network));
    if (options_.faults) {
      if (options_.random_faults) schedule_random_faults();
      for (const planned_fault& f : options_.schedule) schedule(f);
    }
    supervise();
    workload_options w = options_.workload;
    w.stop_ns = options_.time_ns + options_.settle_ns;
    w.record_script = options_.record_script;
    workload& load = load_.emplace(cluster_, options_.check ? &recorder_ : nullptr, sim.derive(workload_stream), w);
    load.start();
    run_until(options_.time_ns, w.stop_ns);

    heal();
    const check_selection& c = options_.checks;
    check_result live = options_.check && c.liveness ? liveness() : check_result{};
    run_until(std::max(sim.now_ns(), w.stop_ns), w.stop_ns);
    // Let the workload's last calls end (their deadlines bound it), so the history is complete.
    sim.run_until([&load] { return load.answered() == load.issued(); },
                  sim.now_ns() + 2 * w.client.call_timeout_ns + second);
    if (options_.check) {
      if (c.liveness) report_.checks.push_back(after_healing(std::move(live), load, w));
      const std::string unquiet = quiesce(cluster_, sim.now_ns() + 30 * second);
      if (c.agreement) report_.checks.push_back(check_agreement(cluster_, recorder_.recorded()));
      if (c.convergence)
        report_.checks.push_back(unquiet.empty() ? check_convergence(cluster_)
                                                 : check_result{"convergence", false, unquiet});
      if (c.linearizability) report_.checks.push_back(check_linearizability(recorder_.recorded()));
      if (c.elections) report_.checks.push_back(check_elections(cluster_));
      if (c.storage) report_.checks.push_back(check_storage(cluster_, damaged_));
      if (c.stable_leader) report_.checks.push_back(check_stable_leader(cluster_));
      if (c.membership && !wanted_members_.empty())
        report_.checks.push_back(check_membership(cluster_, wanted_members_));
      // Past its budget (in quiescing too) the network went dark: what the other checks say is moot.
      if (sim.out_of_steps()) report_.checks.insert(report_.checks.begin(), over_budget());
    }
  }

  // After every step: a "node" line for each running node whose role or
  // term differs from the last one written for it (docs/history.md). It
  // only reads the statuses the nodes publish, so the run stays the same.
  // A node that is down is forgotten, so that its next incarnation is
  // written once it has read its term; a status still at term 0 is one
  // not published yet (sim_cluster resets it at every start).
  void record_node_states() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const node_id id = nodes_[i];
      written_state& last = written_[i];
      if (!cluster_.up(id)) {
        last = {};
        continue;
      }
      const actors::raft_node_status& s = cluster_.status(id);
      if (s.term == 0 && !s.stopped) continue;
      const std::string_view role = s.stopped ? std::string_view("stopped") : raft::role_name(s.role);
      if (last.written && last.role == role && last.term == s.term) continue;
      last = {true, role, s.term};
      recorder_.node(cluster_.sim().now_ns(), id, role, s.term);
    }
  }

  // What the run did, whether it ran to its end or an assertion stopped it.
  void summarize() {
    simulator& sim = cluster_.sim();
    if (options_.check)
      for (outcome o : {outcome::ok, outcome::fail, outcome::info})
        report_.outcomes[outcome_name(o)] = recorder_.count(o);
    if (options_.record_script && load_) report_.script = load_->script();
    for (node_id id : nodes_) {
      const disk_stats& d = cluster_.disk(id).stats();
      report_.disks.syncs += d.syncs;
      report_.disks.failed_syncs += d.failed_syncs;
      report_.disks.corrupted_reads += d.corrupted_reads;
      report_.disks.crashes += d.crashes;
      report_.disks.unsynced_files += d.unsynced_files;
      report_.disks.torn_files += d.torn_files;
    }
    report_.operations = load_ ? load_->answered() : 0;
    report_.trace_hash = sim.trace().value();
    if (options_.keep_trace) report_.trace = sim.trace().kept();
    report_.events = sim.trace().events();
    report_.virtual_ns = sim.now_ns();
  }

  static sim_cluster_options cluster_options(const run_options& o) {
    sim_cluster_options c;
    c.nodes = o.nodes;
    c.founders = o.founders;
    c.node = o.node;
    c.node.observe_state = o.check;
    c.disk = o.faults ? o.disk : reliable(o.disk);
    return c;
  }

  std::uint64_t step_budget() const {
    if (options_.max_steps > 0) return options_.max_steps;
    const std::uint64_t seconds = (options_.time_ns + options_.settle_ns) / second + 1;
    return std::max<std::uint64_t>(20'000'000, 200'000 * seconds);
  }

  check_result over_budget() {
    check_result r{"work", false,
                   "the simulation ran out of its budget of " + std::to_string(step_budget()) + " steps at " +
                       std::to_string(cluster_.sim().out_of_steps_at_ns() / 1'000'000) +
                       " ms, and its network went dark: a message storm or a loop"};
    r.at_ns = cluster_.sim().out_of_steps_at_ns();
    return r;
  }

  // In steps of a simulated second when someone watches: running to a time
  // in steps does what one run to it does.
  void run_until(std::uint64_t t_ns, std::uint64_t end_ns) {
    simulator& sim = cluster_.sim();
    if (options_.progress)
      for (std::uint64_t step = sim.now_ns() + second; step < t_ns; step += second) {
        sim.run_until(step);
        options_.progress(step, end_ns);
      }
    sim.run_until(t_ns);
  }

  static disk_faults reliable(disk_faults d) {
    d.sync_failure = d.read_corruption = 0;
    return d;
  }

  void note(const fault& f) {
    if (f.kind == fault_kind::damage_disk || f.kind == fault_kind::lose_disk || f.kind == fault_kind::cut_log ||
        f.kind == fault_kind::alone)
      damaged_.insert(f.node);
    if (f.kind == fault_kind::crash || f.kind == fault_kind::restart) rebooting_.erase(f.node);
    recorder_.fault(cluster_.sim().now_ns(), f);
    ++report_.faults[std::string(f.history_name())];
  }

  // The generator's faults, within the run and at most f of 2f+1 nodes down or damaged.
  void schedule_random_faults() {
    fault_options f = options_.random_plan;
    f.start_ns = std::min(second, options_.time_ns);
    f.stop_ns = options_.time_ns;
    f.max_down = std::min(f.max_down, (options_.nodes - 1) / 2);
    f.max_damaged = std::min(f.max_damaged, (options_.nodes - 1) / 2);
    dkv::rng random = cluster_.sim().derive(fault_stream);
    std::vector<timed_fault> faults = generate_faults(random, nodes_, f);
    // Membership changes go where a schedule's do: asked again until taken.
    std::vector<timed_fault> changes;
    for (const timed_fault& t : faults)
      if (is_membership_change(t.what.kind)) changes.push_back(t);
    std::erase_if(faults, [](const timed_fault& t) { return is_membership_change(t.what.kind); });
    schedule_faults(cluster_.sim(), cluster_, nodes_, faults,
                    [this](std::uint64_t, const fault& applied) { note(applied); });
    if (options_.record_script)
      for (const timed_fault& t : faults) report_.schedule.push_back({t.time_ns, t.what});
    for (const timed_fault& t : changes) schedule({t.time_ns, t.what});
    if (f.crash_after_vote > 0) vote_crashes_ = cluster_.sim().derive(vote_crash_stream);
    const bool after_winning = f.isolate_after_winning > 0 || f.crash_after_winning > 0;
    if (after_winning) win_faults_ = cluster_.sim().derive(win_fault_stream);
    if (f.strikes_at_steps())
      cluster_.watch_raft([this, f, after_winning](const raft::message& m) {
        if (f.crash_after_vote > 0) maybe_crash_after_vote(m, f);
        if (after_winning && starts_leading(m)) after_winning_election(m.from, f);
      });
  }

  // A node's vote is leaving it: perhaps it crashes before its disk is done
  // and comes back soon (fault_options::crash_after_vote).
  void maybe_crash_after_vote(const raft::message& m, const fault_options& f) {
    if (m.type != raft::rpc_type::vote_reply || m.reject) return;
    for (node_id id : nodes_)
      if (!cluster_.up(id) || cluster_.status(id).stopped) return;
    if (!vote_crashes_.chance(f.crash_after_vote)) return;
    const std::uint64_t crash_ns = cluster_.sim().now_ns() + vote_crashes_.below(f.crash_after_vote_within_ns + 1);
    schedule_reboot(m.from, crash_ns, 1 + vote_crashes_.below(f.crash_after_vote_downtime_ns), f);
  }

  // Only a leader sends appends and heartbeats, so the first one of a term
  // is its leader starting out (terms only grow, across restarts too).
  bool starts_leading(const raft::message& m) {
    if (m.type != raft::rpc_type::append && m.type != raft::rpc_type::heartbeat) return false;
    raft::term_t& led = led_term_[m.from];
    if (m.term <= led) return false;
    led = m.term;
    return true;
  }

  // A node has just won an election (fault_options::isolate_after_winning,
  // crash_after_winning): perhaps it is cut off before its first entries
  // arrive anywhere — which lets back the one cut off before it, as any new
  // partition replaces the last — or else an isolated predecessor is let
  // back soon, and the new leader perhaps crashes soon after.
  void after_winning_election(node_id leader, const fault_options& f) {
    const std::uint64_t now = cluster_.sim().now_ns();
    // While a heal is pending, a new cut would be healed early by it.
    if (win_faults_.chance(f.isolate_after_winning) && now >= heal_pending_until_) return isolate_soon(leader, f);
    if (isolated_ && *isolated_ != leader) heal_later(f);
    if (!win_faults_.chance(f.crash_after_winning)) return;
    const std::uint64_t crash_ns = now + win_faults_.below(f.crash_after_winning_within_ns + 1);
    schedule_reboot(leader, crash_ns, 1 + win_faults_.below(f.crash_after_winning_downtime_ns), f);
  }

  // Cut off from every other node a nanosecond after the step that sent its
  // first messages, so they are lost on arrival and its term's entries stay
  // on its own disk. It stays cut off until another node leads: with
  // nothing to depose it, it would lead on unharmed.
  void isolate_soon(node_id leader, const fault_options& f) {
    planned_fault cut;
    cut.time_ns = cluster_.sim().now_ns() + 1;
    cut.what.kind = fault_kind::isolate;
    cut.what.node = leader;
    if (cut.time_ns >= f.stop_ns || !strikes(f)) return;
    schedule(cut);
    isolated_ = leader;
  }

  // Another node leads: the network is healed within
  // isolate_after_winning_downtime (else at the end of the faults).
  void heal_later(const fault_options& f) {
    isolated_.reset();
    planned_fault heal;  // a heal by default
    heal.time_ns = cluster_.sim().now_ns() + 1 + win_faults_.below(f.isolate_after_winning_downtime_ns);
    if (heal.time_ns >= f.stop_ns || !strikes(f)) return;
    schedule(heal);
    heal_pending_until_ = heal.time_ns;
  }

  // Counts a fault struck at a step: does it strike (fault_options::only_step_faults)?
  bool strikes(const fault_options& f) {
    const std::size_t n = report_.step_faults++;
    return !f.only_step_faults || std::binary_search(f.only_step_faults->begin(), f.only_step_faults->end(), n);
  }

  // A crash and its restart as one reboot, into the schedule like any
  // planned fault, so a fixed run (replay, shrink) does the same with
  // nothing watching; none whose restart would come after the faults end.
  void schedule_reboot(node_id id, std::uint64_t crash_ns, std::uint64_t downtime_ns, const fault_options& f) {
    if (crash_ns + downtime_ns >= f.stop_ns || !strikes(f)) return;
    planned_fault reboot;
    reboot.time_ns = crash_ns;
    reboot.what.kind = fault_kind::reboot;
    reboot.what.node = id;
    reboot.what.downtime_ns = downtime_ns;
    schedule(reboot);
  }

  // A planned fault; one named by role finds its node when it applies.
  void schedule(const planned_fault& planned) {
    if (options_.record_script) report_.schedule.push_back(planned);
    cluster_.sim().at(planned.time_ns, describe(planned), [this, planned] {
      // Removing "the leader" when none leads removes no one.
      if (is_membership_change(planned.what.kind) && planned.role == node_role::leader && !cluster_.leader()) return;
      const fault f = resolve(planned);
      const bool was_up = f.kind == fault_kind::reboot && cluster_.up(f.node);
      apply(f, cluster_, nodes_);
      note(f);
      if (is_membership_change(f.kind)) want_member(f);
      if (was_up) restart_after_reboot(f);  // a reboot of a node that was down does nothing
    });
  }

  // A reboot's restart, unless the node was crashed or restarted by
  // something else meanwhile (then that decides when it runs again).
  void restart_after_reboot(const fault& f) {
    const std::uint64_t at = cluster_.sim().now_ns() + f.downtime_ns;
    rebooting_[f.node] = at;
    cluster_.sim().at(at, "restart " + std::to_string(f.node), [this, id = f.node, at] {
      const auto it = rebooting_.find(id);
      if (it == rebooting_.end() || it->second != at) return;
      rebooting_.erase(it);
      if (!cluster_.up(id)) restart(id);
    });
  }

  // A membership change is an operator's request, and one the cluster
  // cannot take now (no leader, another change under way, a partition) is
  // asked again every 100 ms until the leader's configuration shows it, as
  // an operator's tool would, until the workload ends. The last change
  // asked for a node is the one that counts (the membership check).
  void want_member(const fault& f) {
    wanted_members_[f.node] = f.kind;
    if (!asking_again_) ask_again_later();
  }

  // Polls until the workload ends: a change the configuration shows may
  // still be lost with its leader before it commits, and a server added
  // under a deposed leader stays a learner until a leader is asked again.
  void ask_again_later() {
    const std::uint64_t at = cluster_.sim().now_ns() + membership_retry_ns;
    if (at >= options_.time_ns + options_.settle_ns) return;
    asking_again_ = true;
    cluster_.sim().at(at, "membership retry", [this] {
      const std::optional<node_id> leader = cluster_.leader();
      for (const auto& [id, change] : wanted_members_)
        if (!leader || !membership_done(cluster_.status(*leader), id, change)) {
          cluster_.change_membership(change, id);
          break;
        }
      ask_again_later();
    });
  }

  // Roles are among the members of the configuration (every node unless
  // membership changes): a follower is the lowest-numbered member up and
  // not leading; a side is filled with members first.
  fault resolve(const planned_fault& planned) const {
    return resolve_role(planned, cluster_.leader(), cluster_.members(), nodes_,
                        [this](node_id n) { return cluster_.up(n); });
  }

  // A node that stopped itself (a failed fsync) is restarted a second
  // later, as a process supervisor would.
  void supervise() {
    for (std::uint64_t t = second; t < options_.time_ns; t += second)
      cluster_.sim().at(t, "supervisor", [this] {
        for (node_id id : nodes_)
          if (cluster_.up(id) && cluster_.status(id).stopped) restart(id);
      });
  }

  void restart(node_id id) {
    fault f;
    f.kind = fault_kind::restart;
    f.node = id;
    cluster_.restart(id);
    note(f);
  }

  // Faults stop: the network is whole and reliable, disks behave, every node runs.
  void heal() {
    simulator& sim = cluster_.sim();
    sim.network().set_faults(calm(options_.network));
    if (!cluster_.cuts().whole()) {
      cluster_.cuts().heal();
      note(fault{});  // heal
    }
    for (node_id id : nodes_) {
      cluster_.disk(id).set_faults(reliable(options_.disk));
      cluster_.resume(id);
      if (cluster_.misconfigured(id)) {
        // The operator's fix: a new disk and the cluster's list (its peers
        // then tell it that it is not the member they knew, and it repairs).
        cluster_.restore_members(id);
        fault lost;
        lost.kind = fault_kind::lose_disk;
        lost.node = id;
        note(lost);
      }
      if (!cluster_.up(id) || cluster_.status(id).stopped) restart(id);
    }
  }

  // 10 rounds of what a write after healing may wait for: a whole election
  // timeout, a disk sync, a network round trip (each at its maximum).
  std::uint64_t election_bound() const {
    const std::uint64_t election = 2 * std::uint64_t{options_.node.raft.election_ticks} * options_.node.tick_ns;
    return 10 * (election + options_.disk.max_latency_ns + 2 * options_.network.max_latency_ns);
  }

  check_result after_healing(check_result r, const workload& load, const workload_options& w) {
    const bool roomy =
        options_.node.machine.sessions.max_sessions > w.clients + 1 && options_.node.max_pending > 2 * w.clients;
    return check_after_healing(std::move(r), recorder_.recorded(), load.issued() - load.answered(),
                               options_.time_ns + election_bound(), roomy);
  }

  // A leader, and a write acknowledged, within 10 maximum election timeouts.
  check_result liveness() {
    simulator& sim = cluster_.sim();
    const std::uint64_t bound = election_bound();
    const std::uint64_t start = sim.now_ns();
    sim_client probe(cluster_);
    std::uint32_t process = first_probe_process;
    for (std::uint64_t attempt = 0; sim.now_ns() < start + bound; ++attempt) {
      operation op;
      op.process = process;
      op.f = "set";
      op.key = "liveness";
      op.value = "probe" + std::to_string(attempt);
      const std::size_t id = recorder_.invoke(sim.now_ns(), op);
      actors::store_call call;
      call.op = static_cast<std::uint8_t>(operation_kind::set);
      call.key = op.key;
      call.value = op.value;
      const op_result r = result_of(op, probe.call(std::move(call)));  // blocks: the simulation runs
      recorder_.complete(id, sim.now_ns(), r);
      if (r.result == outcome::ok && sim.now_ns() <= start + bound)
        return {"liveness", true,
                "leader " + std::to_string(cluster_.leader().value_or(0)) + ", a write acknowledged " +
                    std::to_string((sim.now_ns() - start) / 1'000'000) + " ms after healing (bound " +
                    std::to_string(bound / 1'000'000) + " ms)"};
      if (r.result == outcome::info) ++process;
    }
    check_result failed{"liveness", false,
                        "no write acknowledged within " + std::to_string(bound / 1'000'000) + " ms after healing"};
    failed.at_ns = start + bound;  // the deadline
    return failed;
  }

  run_options options_;
  sim_cluster cluster_;
  history_recorder recorder_;
  std::optional<workload> load_;  // from the start of the run; destroyed before the cluster it calls
  std::vector<node_id> nodes_;
  std::set<node_id> damaged_;                     // disks a fault damaged
  dkv::rng vote_crashes_{0};                      // draws crash_after_vote's crashes
  dkv::rng win_faults_{0};                        // and isolate_after_winning's and crash_after_winning's
  std::map<node_id, raft::term_t> led_term_;      // the last term each node was seen leading
  std::optional<node_id> isolated_;               // a leader cut off by isolate_after_winning, no heal planned yet
  std::uint64_t heal_pending_until_ = 0;          // when the heal planned for the last one applies
  std::map<node_id, fault_kind> wanted_members_;  // the last membership change asked for each node
  bool asking_again_ = false;                     // a membership retry is scheduled
  std::map<node_id, std::uint64_t> rebooting_;    // a reboot's node and when it restarts
  struct written_state {
    bool written = false;
    std::string_view role;  // role_name's, or "stopped": static strings
    raft::term_t term = 0;
  };
  std::vector<written_state> written_;  // by node: the last "node" line recorded
  run_report report_;
};

}  // namespace

bool run_report::passed() const { return first_failure() == nullptr; }

const check_result* run_report::first_failure() const {
  for (const check_result& c : checks)
    if (!c.passed) return &c;
  return nullptr;
}

run_report run_random(const run_options& options) {
  const dkv::bugs::scoped_bugs bugs(options.bugs);
  return random_run(options).run();
}

run_options fixed_run(run_options options, const run_report& report) {
  options.random_faults = false;
  options.schedule = report.schedule;
  options.workload.scripted = true;
  options.workload.script = report.script;
  options.record_script = false;
  return options;
}

fault resolve_role(const planned_fault& planned, std::optional<node_id> leader, const std::vector<node_id>& members,
                   const std::vector<node_id>& nodes, const std::function<bool(node_id)>& up) {
  fault f = planned.what;
  if (planned.role == node_role::leader) {
    f.node = leader.value_or(nodes.front());
  } else if (planned.role == node_role::follower) {
    f.node = members.back();
    for (node_id n : members)
      if (n != leader && up(n)) {
        f.node = n;
        break;
      }
  }
  if (f.kind == fault_kind::split && planned.side > 0) {
    f.groups.assign(2, {});
    f.groups[0].push_back(f.node);
    for (node_id n : members)
      if (n != f.node && f.groups[0].size() < planned.side) f.groups[0].push_back(n);
    for (node_id n : nodes)
      if (std::find(f.groups[0].begin(), f.groups[0].end(), n) == f.groups[0].end()) f.groups[1].push_back(n);
  }
  return f;
}

std::string describe(const planned_fault& f) {
  if (f.role == node_role::given) return f.what.describe();
  fault shown = f.what;
  shown.node = 0;
  return std::string(f.role == node_role::leader ? "the leader: " : "a follower: ") + shown.describe() +
         (f.side > 0 ? " (side of " + std::to_string(f.side) + ")" : "");
}

void print_report(const run_report& report, std::ostream& out) {
  out << "trace hash: " << std::hex << std::setw(16) << std::setfill('0') << report.trace_hash << std::dec
      << std::setfill(' ') << "\n";
  out << "simulated " << report.virtual_ns / 1'000'000 << " ms, " << report.events << " trace events, "
      << report.operations << " client operations\n";
  out << "outcomes:";
  for (const auto& [name, count] : report.outcomes) out << " " << name << " " << count;
  out << "\nfaults:";
  if (report.faults.empty()) out << " none";
  for (const auto& [name, count] : report.faults) out << " " << name << " " << count;
  out << "\ndisks: " << report.disks.syncs << " syncs (" << report.disks.failed_syncs << " failed), "
      << report.disks.crashes << " crashes found " << report.disks.unsynced_files << " files with unsynced bytes ("
      << report.disks.torn_files << " torn), " << report.disks.corrupted_reads << " corrupted reads\n";
  for (const check_result& c : report.checks)
    out << "check " << c.name << ": " << (c.skipped ? "SKIP" : c.passed ? "PASS" : "FAIL") << " — " << c.detail << "\n";
}

}  // namespace dkv::sim
