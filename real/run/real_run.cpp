#include "real/run/real_run.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>

#include "net/client/remote_client.hpp"
#include "net/client/remote_store.hpp"
#include "real/run/real_cluster.hpp"
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

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t second = 1'000 * ms;
constexpr std::uint64_t status_every_ns = 50 * ms;
constexpr std::uint32_t first_reader_process = 2'000'000;  // the final reads, apart from probes and workload

std::uint64_t scaled(std::uint64_t ns, double factor) {
  return static_cast<std::uint64_t>(static_cast<double>(ns) * factor);
}

net::message request_of(const actors::store_call& call) {
  net::message m;
  switch (static_cast<operation_kind>(call.op)) {
    case operation_kind::set: m.type = net::message_type::set; break;
    case operation_kind::set_e: m.type = net::message_type::set_e; break;
    case operation_kind::set_e_if_unset: m.type = net::message_type::set_e_if_unset; break;
    case operation_kind::expire: m.type = net::message_type::expire; break;
    case operation_kind::remove: m.type = net::message_type::remove; break;
    case operation_kind::remove_if_value: m.type = net::message_type::remove_if_value; break;
    case operation_kind::get: m.type = net::message_type::get; break;
    case operation_kind::has: m.type = net::message_type::has; break;
    case operation_kind::info: m.type = net::message_type::db_info; break;
  }
  m.key = call.key;
  m.value = call.value;
  m.expire_in = call.expire_in;
  m.delete_in = call.delete_in;
  return m;
}

actors::store_answer answer_of(const net::message& response) {
  actors::store_answer a;
  const error e = net::error_of(response);
  a.code = static_cast<std::uint8_t>(e.code());
  a.message = e.message();
  if (e.ok()) {
    a.found = response.ok;
    a.value = response.value;
    a.index = net::meta_index(response.meta);
  }
  return a;
}

// What a node's last status answer said.
struct node_status {
  std::string role;
  std::uint64_t term = 0;
  std::string leader;  // a member name, "" when none known
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t at_ns = 0;
};

std::optional<node_status> status_of(const net::message& response, std::uint64_t now) {
  if (!net::error_of(response).ok()) return std::nullopt;
  const nlohmann::json doc = nlohmann::json::parse(response.value, nullptr, false);
  if (!doc.is_object() || doc.value("stopped", false)) return std::nullopt;
  node_status s;
  s.role = doc.value("role", std::string());
  s.term = doc.value("term", std::uint64_t{0});
  s.leader = doc.value("leader", std::string());
  s.commit = doc.value("commit", std::uint64_t{0});
  s.applied = doc.value("applied", std::uint64_t{0});
  s.at_ns = now;
  return s;
}

class real_run;

// The workload's world: the wall clock since the run began, Asio timers on
// the run's own thread, and the network client.
class network_world final : public sim::workload_world {
 public:
  explicit network_world(real_run& run) : run_(run) {}
  std::uint64_t now_ns() const override;
  void at(std::uint64_t t_ns, std::string what, std::function<void()> action) override;
  void submit(std::size_t client, actors::store_call call, answer_callback done) override;

 private:
  real_run& run_;
};

class real_run {
 public:
  real_run(const sim::run_options& options, const real_options& real)
      : options_(options),
        real_(real),
        cluster_(cluster_options(options, real)),
        recorder_(options.check ? options.history : nullptr),
        world_(*this) {
    nodes_ = cluster_.node_ids();
    recorder_.meta(0, options.seed, "real", options.nodes);
  }

  real_report run() {
    const steady::time_point began = steady::now();
    try {
      drive();
    } catch (const interrupted&) {
      report_.interrupted = true;
    }
    summarize();
    stop();
    report_.wall_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(steady::now() - began).count());
    return std::move(report_);
  }

  // The run's clock: nanoseconds since the workload began (the cluster's start before it).
  std::uint64_t now_ns() const {
    const auto since = steady::now() - start_;
    return since.count() < 0 ? 0 : static_cast<std::uint64_t>(std::chrono::nanoseconds(since).count());
  }

  void at(std::uint64_t t_ns, std::function<void()> action) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, start_ + std::chrono::nanoseconds(t_ns));
    timer->async_wait([timer, action = std::move(action)](const boost::system::error_code& ec) {
      if (!ec) action();
    });
  }

  // The answer comes back onto the run's thread.
  void submit(actors::store_call call, std::function<void(const actors::store_answer&)> done) {
    client_->call(real_.shard, request_of(call), [this, done = std::move(done)](net::message response) {
      boost::asio::post(io_, [done, response = std::move(response)] { done(answer_of(response)); });
    });
  }

 private:
  struct interrupted {};

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

  // Runs the loop until the run's clock reaches `t_ns` or `done` holds.
  void run_until(std::uint64_t t_ns, const std::function<bool()>& done = {}) {
    while (now_ns() < t_ns && !(done && done())) {
      if (real_.interrupted && real_.interrupted->load()) throw interrupted{};
      const std::uint64_t left = t_ns - now_ns();
      io_.run_one_for(std::chrono::nanoseconds(std::min<std::uint64_t>(left, 20 * ms)));
    }
  }

  void drive() {
    start_ = steady::now();
    client_ = make_client(cluster_.client_endpoints(), options_.workload.client.call_timeout_ns);
    for (node_id id : nodes_) status_clients_.push_back(make_client({cluster_.client_endpoint(id)}, 300 * ms));
    cluster_.set_link_faults(calm(options_.network));
    cluster_.start_all();
    say("started " + std::to_string(nodes_.size()) + " dkv serve processes in " + real_.dir.string());
    poll_statuses();
    // The run's clock starts once a leader serves: the scenario's times count from there.
    if (!leader_serves()) {
      report_.run.checks.push_back({"liveness", false, "the cluster did not answer a read within 30 s of its start"});
      return;
    }
    start_ = steady::now();
    clock_started_ = true;
    if (options_.check)
      for (const auto& [id, known] : statuses_) recorder_.node(0, id, known.role, known.term);
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
      report_.run.checks.push_back(unquiet.empty() ? convergence() : check_result{"convergence", false, unquiet});
    if (c.linearizability) report_.run.checks.push_back(sim::check_linearizability(recorder_.recorded()));
    if (c.elections) report_.run.checks.push_back(elections());
    if (c.storage)
      report_.run.checks.push_back(skipped("storage", "it needs the simulated disks' record of what a crash tore"));
    if (c.stable_leader) report_.run.checks.push_back(stable_leader());
  }

  static check_result skipped(std::string name, std::string why) {
    check_result r{std::move(name), true, std::move(why)};
    r.skipped = true;
    return r;
  }

  std::shared_ptr<net::remote_client> make_client(std::vector<std::string> endpoints, std::uint64_t timeout_ns) {
    net::remote_client_options o;
    o.endpoints = std::move(endpoints);
    o.call_timeout = std::chrono::milliseconds(std::max<std::uint64_t>(1, timeout_ns / ms));
    o.connect_timeout = std::chrono::milliseconds(200);
    return std::make_shared<net::remote_client>(o);
  }

  static sim::link_faults calm(sim::link_faults f) {
    f.drop = f.duplicate = 0;
    return f;
  }

  // Blocks (running the loop) until `call` is answered.
  actors::store_answer call(actors::store_call call) {
    std::optional<actors::store_answer> answer;
    submit(std::move(call), [&answer](const actors::store_answer& a) { answer = a; });
    while (!answer) {
      if (real_.interrupted && real_.interrupted->load()) throw interrupted{};
      io_.run_one_for(20ms);
    }
    return *answer;
  }

  // A read the fresh cluster answers: a leader that knows it leads. (Not a
  // write: it would take a store index no operation of the history has.)
  bool leader_serves() {
    const std::uint64_t until = now_ns() + 30 * second;
    while (now_ns() < until) {
      actors::store_call probe;
      probe.op = static_cast<std::uint8_t>(operation_kind::get);
      probe.key = "k0";
      if (call(probe).code == 0) return true;
    }
    return false;
  }

  // Every 50 ms, each node that runs and is not paused is asked for its status.
  void poll_statuses() {
    for (node_id id : nodes_) {
      if (!cluster_.up(id) || cluster_.paused(id)) continue;
      net::message request;
      request.type = net::message_type::status;
      status_clients_[id - 1]->call(real_.shard, std::move(request), [this, id](net::message response) {
        boost::asio::post(io_, [this, id, response = std::move(response)] { took_status(id, response); });
      });
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::nanoseconds(status_every_ns));
    timer->async_wait([this, timer](const boost::system::error_code& ec) {
      if (!ec && !stopped_) poll_statuses();
    });
  }

  void took_status(node_id id, const net::message& response) {
    const std::optional<node_status> s = status_of(response, now_ns());
    if (!s) return;
    ++report_.status_polls;
    const auto before = statuses_.find(id);
    // Into the history as the simulator writes it (the report's node lanes): on a change of role or term.
    if (options_.check && clock_started_ &&
        (before == statuses_.end() || before->second.role != s->role || before->second.term != s->term))
      recorder_.node(now_ns(), id, s->role, s->term);
    statuses_[id] = *s;
    if (s->role == "leader") leaders_[s->term].insert(id);
  }

  // The leader the freshest status names (a status is at most ~50 ms old).
  std::optional<node_id> leader() const {
    std::optional<node_id> best;
    std::uint64_t best_term = 0;
    for (const auto& [id, s] : statuses_)
      if (s.role == "leader" && s.term >= best_term && cluster_.up(id)) {
        best = id;
        best_term = s.term;
      }
    return best;
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
    if (down_.count(f.node) != 0) statuses_.erase(f.node);  // its next status, after a restart, is news
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
    return sim::resolve_role(planned, leader(), nodes_, nodes_, [this](node_id n) { return cluster_.up(n); });
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
    cluster_.set_link_faults(calm(options_.network));
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
      const sim::op_result r = sim::result_of(op, call(probe));
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
      const sim::op_result r = sim::result_of(op, call(read));
      recorder_.complete(id, now_ns(), r);
      if (r.result == sim::outcome::info) ++process;
    }
  }

  // Until every node has applied what the leader committed, or 30 s.
  std::string quiesce() {
    const std::uint64_t until = now_ns() + 30 * second;
    const auto quiet = [this] {
      std::optional<node_id> lead = leader();
      if (!lead) return false;
      const std::uint64_t commit = statuses_.at(*lead).commit;
      for (node_id id : nodes_) {
        const auto it = statuses_.find(id);
        if (it == statuses_.end() || it->second.applied != commit || it->second.at_ns + 2 * status_every_ns < now_ns())
          return false;
      }
      return true;
    };
    run_until(until, quiet);
    if (quiet()) return {};
    std::string seen;
    for (const auto& [id, s] : statuses_)
      seen += " node " + std::to_string(id) + " " + s.role + " term " + std::to_string(s.term) + " commit " +
              std::to_string(s.commit) + " applied " + std::to_string(s.applied) + ";";
    return "the nodes did not all apply what the leader committed within 30 s:" + seen;
  }

  // Once quiet: every node's engine and session table, by their digests
  // (asked of each node alone), the same at the same applied index.
  check_result convergence() {
    std::string first, differs;
    std::uint64_t index = 0;
    for (node_id id : nodes_) {
      std::optional<net::message> answer;
      net::message request;
      request.type = net::message_type::status;
      request.key = "digests";
      status_clients_[id - 1]->call(real_.shard, std::move(request), [this, &answer](net::message response) {
        boost::asio::post(io_, [&answer, response = std::move(response)] { answer = response; });
      });
      while (!answer) {
        if (real_.interrupted && real_.interrupted->load()) throw interrupted{};
        io_.run_one_for(20ms);
      }
      const nlohmann::json doc = nlohmann::json::parse(answer->value, nullptr, false);
      if (!net::error_of(*answer).ok() || !doc.is_object() || !doc.contains("engine_digest"))
        return {"convergence", false, "node " + std::to_string(id) + " did not report its digests"};
      const std::string seen = std::to_string(doc.value("applied", std::uint64_t{0})) + " " +
                               doc.value("engine_digest", std::string()) + " " +
                               doc.value("sessions_digest", std::string());
      if (first.empty()) {
        first = seen;
        index = doc.value("applied", std::uint64_t{0});
      } else if (seen != first) {
        differs = "node " + std::to_string(id) + " has applied index, engine and session digests " + seen +
                  ", node " + std::to_string(nodes_.front()) + " " + first;
        break;
      }
    }
    if (!differs.empty()) return {"convergence", false, differs};
    return {"convergence", true,
            std::to_string(nodes_.size()) + " replicas at applied index " + std::to_string(index) +
                " with equal engine and session digests"};
  }

  check_result elections() const {
    for (const auto& [term, led] : leaders_)
      if (led.size() > 1) {
        std::string who;
        for (node_id id : led) who += (who.empty() ? "" : " and ") + std::to_string(id);
        return {"elections", false,
                "term " + std::to_string(term) + " was led by nodes " + who + " (their statuses said so)"};
      }
    return {"elections", true,
            std::to_string(leaders_.size()) + " terms seen led, one leader each (statuses every " +
                std::to_string(status_every_ns / ms) + " ms: a leader that led for less may go unseen)"};
  }

  check_result stable_leader() const {
    if (leaders_.size() <= 1) return {"stable-leader", true, "one term led in all the statuses seen"};
    return {"stable-leader", false, std::to_string(leaders_.size()) + " terms were led"};
  }

  void stop() {
    stopped_ = true;
    cluster_.stop_all();
    load_.reset();  // before the clients whose answers it waits for
    client_.reset();
    status_clients_.clear();
  }

  void summarize() {
    if (options_.check)
      for (sim::outcome o : {sim::outcome::ok, sim::outcome::fail, sim::outcome::info})
        report_.run.outcomes[check::outcome_name(o)] = recorder_.count(o);
    report_.run.operations = load_ ? load_->answered() : 0;
    if (options_.record_script && load_) report_.run.script = load_->script();
    report_.run.virtual_ns = now_ns();
    for (const auto& [kind, count] : cluster_.not_made()) report_.not_made[kind] += count;
  }

  friend class network_world;

  sim::run_options options_;
  real_options real_;
  boost::asio::io_context io_;  // first: the clients below post their answers into it
  real_cluster cluster_;
  sim::history_recorder recorder_;
  network_world world_;
  std::vector<node_id> nodes_;
  steady::time_point start_ = steady::now();
  std::shared_ptr<net::remote_client> client_;
  std::vector<std::shared_ptr<net::remote_client>> status_clients_;  // one per node, by id - 1
  std::optional<sim::workload> load_;
  std::map<node_id, node_status> statuses_;
  std::map<std::uint64_t, std::set<node_id>> leaders_;  // by term: the nodes whose status said they led it
  std::set<node_id> down_;                              // crashed by a fault, not yet restarted
  std::map<node_id, std::uint64_t> rebooting_;
  bool stopped_ = false;
  bool clock_started_ = false;  // the run's clock counts from the workload's start: history times from then
  real_report report_;
};

std::uint64_t network_world::now_ns() const { return run_.now_ns(); }
void network_world::at(std::uint64_t t_ns, std::string, std::function<void()> action) {
  run_.at(t_ns, std::move(action));
}
void network_world::submit(std::size_t, actors::store_call call, answer_callback done) {
  run_.submit(std::move(call), std::move(done));
}

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
