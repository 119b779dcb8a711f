// Whole simulated runs as properties: random workloads (every IStore
// operation, SetE / Expire and locks, several concurrent clients) against
// random fault schedules (partitions of every shape, crashes and restarts,
// pauses, clock jumps, disk damage, drops, duplicates, fsync failures, torn
// writes at every crash), judged by the four end-of-run checks. A failure
// prints the dkv-sim command that replays it; RapidCheck's own replay is
// RC_PARAMS="seed=…" (CTest sets a fixed one).

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <numeric>
#include <sstream>

#include "check/history/parse.hpp"
#include "sim/run/random_run.hpp"

using namespace dkv;

namespace {

constexpr std::uint64_t second = 1'000'000'000;

struct scenario {
  sim::run_options options;
  std::string replay;  // the dkv-sim command that runs the same
};

rc::Gen<scenario> scenarios() {
  return rc::gen::exec([] {
    scenario s;
    sim::run_options& o = s.options;
    o.seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
    const auto seconds = *rc::gen::inRange<std::uint64_t>(5, 31);
    o.time_ns = seconds * second;
    o.nodes = *rc::gen::element<std::size_t>(3, 3, 5);
    o.workload.clients = *rc::gen::inRange<std::size_t>(1, 7);
    // Swarm testing: each run stresses its own mix.
    o.network.drop = *rc::gen::element(0.0, 0.01, 0.05);
    o.network.duplicate = *rc::gen::element(0.0, 0.01, 0.05);
    o.disk.sync_failure = *rc::gen::element(0.0, 1e-5, 1e-3);
    o.node.machine.sessions.max_sessions =
        *rc::gen::element<std::size_t>(4096, 4096, 3);                   // 3: sessions evicted, writes sent again
    o.node.max_pending = *rc::gen::element<std::size_t>(1024, 1024, 4);  // 4: full queues answer Unavailable
    std::ostringstream cmd;
    cmd << "dkv-sim run --seed " << o.seed << " --time " << seconds << "s --nodes " << o.nodes << " --clients "
        << o.workload.clients << " --drop " << o.network.drop << " --duplicate " << o.network.duplicate
        << " --sync-failure " << o.disk.sync_failure << " --max-sessions " << o.node.machine.sessions.max_sessions
        << " --max-pending " << o.node.max_pending;
    s.replay = cmd.str();
    return s;
  });
}

// Three nodes where nothing goes wrong but what strikes a leader as it
// wins (fault_options::isolate_after_winning, crash_after_winning).
sim::run_options after_winning(std::uint64_t seed, double isolate, double crash) {
  sim::run_options o;
  o.seed = seed;
  o.time_ns = 5 * second;
  o.node.raft.pre_vote = false;
  o.node.raft.check_quorum = false;
  o.random_plan.weights = sim::fault_weights{0, 0, 0, 0, 0};
  o.random_plan.isolate_after_winning = isolate;
  o.random_plan.crash_after_winning = crash;
  return o;
}

// The run's history, as its checks saw it.
check::history history_of(sim::run_options o) {
  std::ostringstream text;
  o.history = &text;
  REQUIRE(sim::run_random(o).passed());
  check::history h;
  check::parse_error error;
  REQUIRE(check::parse_history(text.str(), h, error));
  return h;
}

std::size_t ok_before(const check::history& h, std::uint64_t t_ns) {
  std::size_t n = 0;
  for (const check::operation& op : h.operations)
    if (op.result == check::outcome::ok && op.return_ns < t_ns) ++n;
  return n;
}

std::string failures(const sim::run_report& report) {
  std::ostringstream out;
  for (const auto& c : report.checks)
    if (!c.passed) out << c.name << ": " << c.detail << "\n";
  return out.str();
}

}  // namespace

TEST_CASE("random workloads under random faults pass every end-of-run check", "[run][property]") {
  rc::prop("liveness, agreement, convergence, linearizability, elections and storage hold", [] {
    const scenario s = *scenarios();
    const sim::run_report report = sim::run_random(s.options);
    RC_CLASSIFY(report.faults.count("crash") > 0, "crashes");
    RC_CLASSIFY(report.outcomes.at("info") > 0, "indeterminate outcomes");
    if (!report.passed()) RC_FAIL("replay with: " + s.replay + "\n" + failures(report));
    RC_ASSERT(report.checks.size() == 6u);
    RC_ASSERT(report.outcomes.at("ok") > 0u);
  });
}

TEST_CASE("crashes fall between a write and its sync, and lose or tear what was not synced", "[run]") {
  // The simulated disk completes a sync after a seeded latency; a crash in
  // between finds unsynced bytes, which it drops, keeps or tears.
  std::uint64_t crashes = 0, unsynced = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    sim::run_options o;
    o.seed = seed;
    const sim::run_report report = sim::run_random(o);
    CHECK(report.passed());
    crashes += report.disks.crashes;
    unsynced += report.disks.unsynced_files;
  }
  CHECK(crashes > 0);
  CHECK(unsynced > 0);
}

TEST_CASE("a run is the same for the same seed, and another seed gives another run", "[run][determinism]") {
  sim::run_options o;
  o.time_ns = 10 * second;
  o.seed = 7;
  const sim::run_report first = sim::run_random(o);
  const sim::run_report again = sim::run_random(o);
  CHECK(first.trace_hash == again.trace_hash);
  CHECK(first.events == again.events);
  CHECK(first.outcomes == again.outcomes);
  o.seed = 8;
  CHECK(sim::run_random(o).trace_hash != first.trace_hash);
}

TEST_CASE("the checks catch a node that acknowledges entries before they are durable", "[run][broken]") {
  // The same runs the property makes, with deliberately broken nodes: their
  // log is never synced, so a crash loses entries they acknowledged. Over
  // these fixed seeds some run must fail a check; if none does, the faults
  // do not reach what they are meant to test.
  std::size_t caught = 0;
  std::string first_failure;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    sim::run_options o;
    o.seed = seed;
    o.time_ns = 60 * second;
    o.bugs = dkv::bugs::bit(dkv::bugs::bug::ack_before_durable);
    const sim::run_report report = sim::run_random(o);
    if (!report.passed()) {
      ++caught;
      if (first_failure.empty()) first_failure = "seed " + std::to_string(seed) + ": " + failures(report);
    }
  }
  INFO(first_failure);
  CHECK(caught > 0);
  // And the same seeds with sound nodes pass (so it is the breakage that fails).
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    sim::run_options o;
    o.seed = seed;
    o.time_ns = 60 * second;
    const sim::run_report report = sim::run_random(o);
    INFO("seed " << seed << ": " << failures(report));
    CHECK(report.passed());
  }
}

TEST_CASE("a reboot crashes its node and restarts it after its downtime, as one fault", "[run]") {
  sim::run_options o;
  o.seed = 4;
  o.time_ns = 3 * second;
  o.settle_ns = second;
  o.random_faults = false;
  sim::planned_fault reboot;
  reboot.time_ns = second;
  reboot.what.kind = sim::fault_kind::reboot;
  reboot.what.node = 2;
  reboot.what.downtime_ns = 40'000'000;
  o.schedule = {reboot};
  std::ostringstream history;
  o.history = &history;
  const sim::run_report report = sim::run_random(o);
  INFO(failures(report));
  CHECK(report.passed());
  CHECK(report.faults.at("crash") == 1);
  CHECK(report.faults.at("restart") == 1);
  CHECK(report.disks.crashes == 1);
  const std::string lines = history.str();
  CHECK(
      lines.find(
          R"({"t": 1000000000, "type": "fault", "fault": "crash", "node": 2, "description": "reboot 2 for 40000000ns"})") !=
      std::string::npos);
  CHECK(
      lines.find(R"({"t": 1040000000, "type": "fault", "fault": "restart", "node": 2, "description": "restart 2"})") !=
      std::string::npos);
}

TEST_CASE("a run past its budget of steps goes dark, and fails its work check first", "[run]") {
  sim::run_options o;
  o.seed = 4;
  o.time_ns = 3 * second;
  o.settle_ns = second;
  const sim::run_report whole = sim::run_random(o);
  REQUIRE(whole.passed());
  o.max_steps = 2000;  // a few hundred milliseconds of this run
  const sim::run_report stopped = sim::run_random(o);
  const sim::check_result* failed = stopped.first_failure();
  REQUIRE(failed);
  CHECK(failed->name == "work");
  INFO(failed->detail);
  CHECK(failed->detail.find("budget of 2000 steps") != std::string::npos);
  CHECK(failed->detail.find("steps at 0 ms") == std::string::npos);  // it says when
  CHECK(stopped.events < whole.events / 2);
}

TEST_CASE("a leader cut off as it wins commits nothing: its first entries reach no one", "[run][faults]") {
  // Every new leader is isolated a nanosecond after its first append or
  // heartbeat leaves, and the one before it is let back: no term's no-op
  // ever reaches a second node, so until the faults end nothing commits and
  // no call succeeds. Without the fault the same cluster serves at once.
  for (std::uint64_t seed : {1, 2}) {
    INFO("seed " << seed);
    const sim::run_options o = after_winning(seed, 1.0, 0.0);
    CHECK(ok_before(history_of(o), o.time_ns) == 0);
    CHECK(ok_before(history_of(after_winning(seed, 0.0, 0.0)), o.time_ns) > 0);
  }
}

TEST_CASE("leaders isolated or crashed as they win: the checks hold, and a fixed run repeats the faults",
          "[run][faults][determinism]") {
  // The isolations, heals, crashes and restarts are decided as leaders
  // emerge, and recorded as planned faults: replayed with nothing watching,
  // they give the same run.
  for (std::uint64_t seed : {1, 2, 3}) {
    INFO("seed " << seed);
    sim::run_options o = after_winning(seed, 0.5, 1.0);
    o.record_script = true;
    const sim::run_report original = sim::run_random(o);
    INFO(failures(original));
    CHECK(original.passed());
    CHECK(original.faults.count("partition") == 1);  // isolations
    CHECK(original.faults.count("crash") == 1);
    CHECK(original.faults.at("crash") > 5);
    CHECK(sim::run_random(o).trace_hash == original.trace_hash);
    CHECK(sim::run_random(sim::fixed_run(o, original)).trace_hash == original.trace_hash);
  }
}

TEST_CASE("faults struck at a step can be left out by their order, the run before the first left out unchanged",
          "[run][faults][determinism]") {
  // What the shrinker does to a chain of leaders falling as they win: keep
  // some of its faults by their order (fault_options::only_step_faults) and
  // let them strike at whatever steps the run then takes.
  sim::run_options o = after_winning(1, 0.5, 1.0);
  o.record_script = true;
  const sim::run_report all = sim::run_random(o);
  REQUIRE(all.step_faults > 5);
  REQUIRE(all.schedule.size() == all.step_faults);  // nothing else is drawn

  // Every one of them listed: the same run.
  std::vector<std::size_t> every(all.step_faults);
  std::iota(every.begin(), every.end(), std::size_t{0});
  o.random_plan.only_step_faults = every;
  CHECK(sim::run_random(o).trace_hash == all.trace_hash);

  // The third left out, and none past the fifth: the first two strike as
  // before, then two more, wherever the run then takes them.
  o.random_plan.only_step_faults = std::vector<std::size_t>{0, 1, 3, 4};
  const sim::run_report fewer = sim::run_random(o);
  REQUIRE(fewer.schedule.size() == 4);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(fewer.schedule[i].time_ns == all.schedule[i].time_ns);
    CHECK(sim::describe(fewer.schedule[i]) == sim::describe(all.schedule[i]));
  }
  CHECK(fewer.trace_hash != all.trace_hash);
  CHECK(fewer.passed());

  // None: no fault at all.
  o.random_plan.only_step_faults = std::vector<std::size_t>{};
  CHECK(sim::run_random(o).schedule.empty());
}
