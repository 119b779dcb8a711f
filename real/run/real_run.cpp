#include "real/run/real_run.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "real/run/cluster_watch.hpp"
#include "real/run/network_world.hpp"
#include "real/run/real_cluster.hpp"
#include "real/run/run_loop.hpp"
#include "sim/run/end_of_run_checks.hpp"
#include "sim/run/history_recorder.hpp"
#include "sim/run/workload.hpp"

namespace dkv::real {

namespace {

using namespace std::chrono_literals;
using sim::check_result;
using sim::fault;
using sim::fault_kind;
using sim::planned_fault;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t ms = ms_ns;
constexpr std::uint64_t second = 1'000 * ms;
constexpr std::uint32_t first_reader_process = 2'000'000;  // the final reads, apart from probes and workload

std::uint64_t scaled(std::uint64_t ns, double factor) {
  return static_cast<std::uint64_t>(static_cast<double>(ns) * factor);
}

class real_run {
 public:
  real_run(const sim::run_options& options, const real_options& real)
      : options_(options),
        real_(real),
        loop_(real.interrupted),
        cluster_(cluster_options(options, real)),
        recorder_(options.check ? options.history : nullptr),
        world_(loop_, run_loop::client(cluster_.client_endpoints(), options.workload.client.call_timeout_ns),
               real.shard),
        watch_(loop_, cluster_, real.shard) {
    nodes_ = cluster_.node_ids();
    recorder_.meta(0, options.seed, "real", options.nodes);
  }

  real_report run() {
    const steady::time_point began = steady::now();
    try {
      drive();
    } catch (const run_loop::interrupted&) {
      report_.interrupted = true;
    }
    summarize();
    stop();
    report_.wall_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(steady::now() - began).count());
    return std::move(report_);
  }

 private:
  std::uint64_t now_ns() const { return loop_.now_ns(); }
  void at(std::uint64_t t_ns, std::function<void()> action) { loop_.at(t_ns, std::move(action)); }
  void run_until(std::uint64_t t_ns, const std::function<bool()>& done = {}) { loop_.run_until(t_ns, done); }

  static real_cluster_options cluster_options(const sim::run_options& o, const real_options& real) {
    real_cluster_options c;
    c.dkv_binary = real.dkv_binary;
    c.dir = real.dir;
    c.nodes = o.nodes;
    c.shard = real.shard;
    c.tick_ms = std::max<std::uint64_t>(1, o.node.tick_ns / ms);
    c.election_ticks = o.node.raft.election_ticks;
    c.heartbeat_ticks = o.node.raft.heartbeat_ticks;
    c.snapshot_entries = o.node.snapshot_every;
    for (const auto& b : dkv::bugs::catalogue())
      if (o.bugs & dkv::bugs::bit(b.id)) c.bugs.emplace_back(b.name);
    c.seed = o.seed;
    c.lazyfs = real.lazyfs;
    return c;
  }

  void say(const std::string& line) const {
    if (real_.say) real_.say(line);
  }

  void drive() {
    cluster_.set_link_faults(sim::calm(options_.network));
    cluster_.start_all();
    say("started " + std::to_string(nodes_.size()) + " dkv serve processes in " + real_.dir.string());
    watch_.start();
    // The run's clock starts once a leader serves: the scenario's times count from there.
    if (!leader_serves()) {
      report_.run.checks.push_back({"liveness", false, "the cluster did not answer a read within 30 s of its start"});
      return;
    }
    loop_.restart_clock();
    if (options_.check) watch_.record_into(&recorder_);
    say("a leader serves; the workload and the faults begin");
    if (options_.faults) {
      cluster_.set_link_faults(options_.network);
      if (options_.random_faults) schedule_random_faults();
      for (const planned_fault& f : options_.schedule) schedule(f);
      note_settings_not_made();
    }
    supervise();
    sim::workload_options w = options_.workload;
    w.stop_ns = options_.time_ns + options_.settle_ns;
    w.record_script = options_.record_script;
    sim::workload& load = load_.emplace(world_, options_.check ? &recorder_ : nullptr,
                                        dkv::rng(options_.seed).derive(sim::workload_stream), w);
    load.start();
    run_until(options_.time_ns);

    heal();
    say("healed at " + std::to_string(now_ns() / ms) + " ms; liveness");
    const sim::check_selection& c = options_.checks;
    check_result live = options_.check && c.liveness ? liveness() : check_result{};
    run_until(w.stop_ns);
    run_until(now_ns() + 2 * w.client.call_timeout_ns + second, [&load] { return load.answered() == load.issued(); });
    if (!options_.check) return;
    if (c.liveness) {
      const bool roomy =
          options_.node.machine.sessions.max_sessions > w.clients + 1 && options_.node.max_pending > 2 * w.clients;
      report_.run.checks.push_back(check_after_healing(std::move(live), recorder_.recorded(),
                                                       load.issued() - load.answered(),
                                                       options_.time_ns + election_bound(), roomy));
    }
    final_reads();
    const std::string unquiet = quiesce();
    if (c.agreement)
      report_.run.checks.push_back(skipped("agreement",
                                           "it compares every replica's applied entries, which a "
                                           "real server does not report; the final reads stand in "
                                           "for lost writes (linearizability)"));
    if (c.convergence)
      report_.run.checks.push_back(unquiet.empty() ? watch_.convergence()
                                                   : check_result{"convergence", false, unquiet});
    if (c.linearizability) report_.run.checks.push_back(sim::check_linearizability(recorder_.recorded()));
    if (c.elections) report_.run.checks.push_back(watch_.elections());
    if (c.storage)
      report_.run.checks.push_back(skipped("storage", "it needs the simulated disks' record of what a crash tore"));
    if (c.stable_leader) report_.run.checks.push_back(watch_.stable_leader());
  }

  static check_result skipped(std::string name, std::string why) {
    check_result r{std::move(name), true, std::move(why)};
    r.skipped = true;
    return r;
  }

  // A read the fresh cluster answers: a leader that knows it leads. (Not a
  // write: it would take a store index no operation of the history has.)
  bool leader_serves() {
    const std::uint64_t until = now_ns() + 30 * second;
    while (now_ns() < until) {
      actors::store_call probe;
      probe.op = static_cast<std::uint8_t>(operation_kind::get);
      probe.key = "k0";
      if (world_.call(probe).code == 0) return true;
    }
    return false;
  }

  void note(const fault& f) {
    recorder_.fault(now_ns(), f);
    ++report_.run.faults[std::string(f.history_name())];
    say(std::to_string(now_ns() / ms) + " ms: " + f.describe());
  }

  void apply(const fault& f) {
    if (f.kind == fault_kind::crash || f.kind == fault_kind::reboot || f.kind == fault_kind::lose_disk ||
        f.kind == fault_kind::cut_log || f.kind == fault_kind::alone)
      down_.insert(f.node);
    if (f.kind == fault_kind::restart) down_.erase(f.node);
    if (down_.count(f.node) != 0) watch_.forget(f.node);
    sim::apply(f, cluster_, nodes_);
    cluster_.sync_links();
    note(f);
    record(f);
  }

  // The fault as a fixed schedule has it: at the time it struck, a reboot
  // as the crash it began with (its restart is recorded when it comes).
  void record(fault f) {
    if (!options_.record_script || now_ns() >= options_.time_ns) return;
    if (f.kind == fault_kind::reboot) f.kind = fault_kind::crash;
    planned_fault p;
    p.time_ns = now_ns();
    p.what = std::move(f);
    report_.run.schedule.push_back(std::move(p));
  }

  void schedule_random_faults() {
    sim::fault_options f = options_.random_plan;
    f.start_ns = std::min(second, options_.time_ns);
    f.stop_ns = options_.time_ns;
    f.max_down = std::min(f.max_down, (options_.nodes - 1) / 2);
    f.max_damaged = std::min(f.max_damaged, (options_.nodes - 1) / 2);
    dkv::rng random = dkv::rng(options_.seed).derive(sim::fault_stream);
    for (const sim::timed_fault& t : sim::generate_faults(random, nodes_, f)) {
      planned_fault p;
      p.time_ns = t.time_ns;
      p.what = t.what;
      schedule(p);
    }
    if (f.strikes_at_steps())
      ++report_.not_made["faults at protocol steps (the real run does not watch Raft's messages)"];
  }

  void schedule(const planned_fault& planned) {
    at(planned.time_ns, [this, planned] {
      const fault f = resolve(planned);
      const bool was_up = f.kind == fault_kind::reboot && cluster_.up(f.node);
      apply(f);
      if (!was_up) return;
      const std::uint64_t back = now_ns() + f.downtime_ns;
      rebooting_[f.node] = back;
      at(back, [this, id = f.node, back] {
        const auto it = rebooting_.find(id);
        if (it == rebooting_.end() || it->second != back) return;
        rebooting_.erase(it);
        if (!cluster_.up(id)) restart(id);
      });
    });
  }

  // As the simulator resolves roles; the members are every node (no membership changes here).
  fault resolve(const planned_fault& planned) const {
    return sim::resolve_role(planned, watch_.leader(), nodes_, nodes_, [this](node_id n) { return cluster_.up(n); });
  }

  void restart(node_id id) {
    fault f;
    f.kind = fault_kind::restart;
    f.node = id;
    apply(f);
  }

  // Settings of the run that dkv serve has no way to take.
  void note_settings_not_made() {
    if (!options_.node.raft.pre_vote) ++report_.not_made["pre-vote off (dkv serve always runs it)"];
    if (!options_.node.raft.check_quorum) ++report_.not_made["check-quorum off (dkv serve always runs it)"];
    if (real_.lazyfs.empty())
      ++report_.not_made["power loss at a crash (no lazy file system: the page cache survives)"];
    if (options_.disk.sync_failure > 0 || options_.disk.read_corruption > 0)
      ++report_.not_made["the simulated disk's failed syncs and corrupted reads"];
  }

  // A node that ended by itself (a fatal error) is restarted a second later, as a supervisor would.
  void supervise() {
    for (std::uint64_t t = second; t < options_.time_ns; t += second)
      at(t, [this] {
        cluster_.reap();
        for (node_id id : nodes_)
          if (!cluster_.up(id) && down_.count(id) == 0) restart(id);
      });
  }

  void heal() {
    cluster_.set_link_faults(sim::calm(options_.network));
    if (!cluster_.cuts().whole()) apply(fault{});  // heal
    cluster_.reap();
    for (node_id id : nodes_) {
      cluster_.resume(id);
      if (cluster_.misconfigured(id)) {
        cluster_.restore_members(id);
        fault lost;
        lost.kind = fault_kind::lose_disk;
        lost.node = id;
        apply(lost);
      }
      if (!cluster_.up(id)) restart(id);
    }
  }

  // 10 rounds of what a write after healing may wait for: a whole election
  // timeout, a disk sync (50 ms on a real disk, at most), a round trip.
  std::uint64_t election_bound() const {
    const std::uint64_t election = 2 * std::uint64_t{options_.node.raft.election_ticks} * options_.node.tick_ns;
    return 10 * (election + 50 * ms + 2 * options_.network.max_latency_ns);
  }

  check_result liveness() {
    const std::uint64_t bound = election_bound();
    const std::uint64_t start = now_ns();
    std::uint32_t process = sim::first_probe_process;
    for (std::uint64_t attempt = 0; now_ns() < start + bound; ++attempt) {
      sim::operation op;
      op.process = process;
      op.f = "set";
      op.key = "liveness";
      op.value = "probe" + std::to_string(attempt);
      const std::size_t id = recorder_.invoke(now_ns(), op);
      actors::store_call probe;
      probe.op = static_cast<std::uint8_t>(operation_kind::set);
      probe.key = op.key;
      probe.value = op.value;
      const sim::op_result r = sim::result_of(op, world_.call(probe));
      recorder_.complete(id, now_ns(), r);
      if (r.result == sim::outcome::ok && now_ns() <= start + bound)
        return {"liveness", true,
                "a write acknowledged " + std::to_string((now_ns() - start) / ms) + " ms after healing (bound " +
                    std::to_string(bound / ms) + " ms)"};
      if (r.result == sim::outcome::info) ++process;
    }
    return {"liveness", false, "no write acknowledged within " + std::to_string(bound / ms) + " ms after healing"};
  }

  // Every key the workload uses read once more, into the history: a write
  // acknowledged and then lost shows as a read the checker cannot order.
  void final_reads() {
    std::vector<std::string> keys;
    for (std::size_t k = 0; k < options_.workload.keys; ++k) keys.push_back("k" + std::to_string(k));
    for (std::size_t k = 0; k < options_.workload.locks; ++k) keys.push_back("lock" + std::to_string(k));
    std::uint32_t process = first_reader_process;
    for (const std::string& key : keys) {
      sim::operation op;
      op.process = process;
      op.f = "get";
      op.key = key;
      const std::size_t id = recorder_.invoke(now_ns(), op);
      actors::store_call read;
      read.op = static_cast<std::uint8_t>(operation_kind::get);
      read.key = key;
      const sim::op_result r = sim::result_of(op, world_.call(read));
      recorder_.complete(id, now_ns(), r);
      if (r.result == sim::outcome::info) ++process;
    }
  }

  // Until every node has applied what the leader committed, or 30 s.
  std::string quiesce() {
    run_until(now_ns() + 30 * second, [this] { return watch_.quiet(); });
    if (watch_.quiet()) return {};
    return "the nodes did not all apply what the leader committed within 30 s:" + watch_.describe();
  }

  void stop() {
    watch_.stop();
    cluster_.stop_all();
  }

  void summarize() {
    if (options_.check)
      for (sim::outcome o : {sim::outcome::ok, sim::outcome::fail, sim::outcome::info})
        report_.run.outcomes[check::outcome_name(o)] = recorder_.count(o);
    report_.run.operations = load_ ? load_->answered() : 0;
    if (options_.record_script && load_) report_.run.script = load_->script();
    report_.run.virtual_ns = now_ns();
    for (const auto& [kind, count] : cluster_.not_made()) report_.not_made[kind] += count;
    report_.status_polls = watch_.answers();
  }

  sim::run_options options_;
  real_options real_;
  run_loop loop_;  // first: the clients of the world and the watch post their answers into it
  real_cluster cluster_;
  sim::history_recorder recorder_;
  network_world world_;
  cluster_watch watch_;
  std::vector<node_id> nodes_;
  std::optional<sim::workload> load_;
  std::set<node_id> down_;  // crashed by a fault, not yet restarted
  std::map<node_id, std::uint64_t> rebooting_;
  real_report report_;
};

}  // namespace

sim::run_options stretched(sim::run_options o, double factor) {
  if (factor == 1) return o;
  const auto s = [factor](std::uint64_t& ns) { ns = scaled(ns, factor); };
  s(o.time_ns);
  s(o.settle_ns);
  s(o.node.tick_ns);
  s(o.workload.max_think_ns);
  s(o.workload.client.call_timeout_ns);
  s(o.network.min_latency_ns);
  s(o.network.max_latency_ns);
  for (planned_fault& f : o.schedule) {
    s(f.time_ns);
    s(f.what.downtime_ns);
  }
  sim::fault_options& r = o.random_plan;
  s(r.mean_gap_ns);
  s(r.min_duration_ns);
  s(r.max_duration_ns);
  s(r.crash_after_vote_within_ns);
  s(r.crash_after_vote_downtime_ns);
  s(r.isolate_after_winning_downtime_ns);
  s(r.crash_after_winning_within_ns);
  s(r.crash_after_winning_downtime_ns);
  for (sim::scripted_call& c : o.workload.script) s(c.at_ns);
  return o;
}

real_report run_real(const sim::run_options& options, const real_options& real) {
  return real_run(stretched(options, real.time_scale), real).run();
}

void print_real_report(const real_report& report, std::ostream& out) {
  const sim::run_report& r = report.run;
  out << "real " << report.wall_ns / ms << " ms wall, " << r.operations << " client operations, " << report.status_polls
      << " status answers\n";
  out << "outcomes:";
  for (const auto& [name, count] : r.outcomes) out << " " << name << " " << count;
  out << "\nfaults:";
  if (r.faults.empty()) out << " none";
  for (const auto& [name, count] : r.faults) out << " " << name << " " << count;
  out << "\n";
  for (const auto& [what, count] : report.not_made) out << "not made: " << what << " (" << count << ")\n";
  if (report.interrupted) out << "interrupted: the run was stopped before its end\n";
  for (const check_result& c : r.checks)
    out << "check " << c.name << ": " << (c.skipped ? "SKIP" : c.passed ? "PASS" : "FAIL") << " — " << c.detail << "\n";
}

}  // namespace dkv::real
