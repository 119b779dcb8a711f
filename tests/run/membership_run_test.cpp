// Whole simulated runs with membership changes (scenarios/membership-change
// .toml, membership-churn.toml): servers added and removed under partitions
// pass every check and end in the configuration asked for; a change the cluster refuses fails
// the membership check; and a recorded run replays to the same trace.

#include <catch2/catch.hpp>

#include "sim/run/random_run.hpp"
#include "sim/scenario/scenario.hpp"

using namespace dkv;

namespace {

const sim::check_result* find_check(const sim::run_report& report, const std::string& name) {
  for (const auto& c : report.checks)
    if (c.name == name) return &c;
  return nullptr;
}

sim::planned_fault at(std::uint64_t time_ns, sim::fault_kind kind, sim::node_id node) {
  sim::planned_fault p;
  p.time_ns = time_ns;
  p.what.kind = kind;
  p.what.node = node;
  return p;
}

}  // namespace

TEST_CASE("servers added and removed under partitions: every check passes, the configuration ends as asked",
          "[run][membership]") {
  const sim::scenario s = sim::load_scenario(DKV_SCENARIOS_DIR "/membership-change.toml");
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const sim::run_report report = sim::run_random(sim::instantiate(s, seed));
    INFO("replay: dkv-sim run scenarios/membership-change.toml --seed " << seed);
    for (const auto& c : report.checks) INFO(c.name << ": " << c.detail);
    CHECK(report.passed());
    const sim::check_result* membership = find_check(report, "membership");
    REQUIRE(membership);
    CHECK(membership->detail.find("nodes as asked") != std::string::npos);
    CHECK(report.faults.at("membership") == 4);
  }
}

TEST_CASE("servers removed and added back at random among partitions and crashes: every check passes",
          "[run][membership]") {
  const sim::scenario s = sim::load_scenario(DKV_SCENARIOS_DIR "/membership-churn.toml");
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const sim::run_report report = sim::run_random(sim::instantiate(s, seed));
    INFO("replay: dkv-sim run scenarios/membership-churn.toml --seed " << seed);
    for (const auto& c : report.checks) INFO(c.name << ": " << c.detail);
    CHECK(report.passed());
    REQUIRE(find_check(report, "membership"));
    CHECK(report.faults.at("membership") >= 2);  // a removal and its return at least
  }
}

TEST_CASE("the membership check fails a run whose change the cluster never takes", "[run][membership]") {
  // Removing the only voter is refused every time it is asked.
  sim::run_options o;
  o.seed = 3;
  o.nodes = 2;
  o.founders = 1;
  o.time_ns = 3'000'000'000;
  o.settle_ns = 1'000'000'000;
  o.random_faults = false;
  o.schedule = {at(1'000'000'000, sim::fault_kind::add_learner, 2),
                at(1'500'000'000, sim::fault_kind::remove_server, 1)};
  const sim::run_report report = sim::run_random(o);
  const sim::check_result* membership = find_check(report, "membership");
  REQUIRE(membership);
  CHECK_FALSE(membership->passed);
  CHECK(membership->detail == "node 1 was to be removed, but leader 1 holds voters 1, learners 2");
  for (const auto& c : report.checks)
    if (c.name != "membership") CHECK(c.passed);
}

TEST_CASE("a run with membership changes replays as a fixed run to the same trace", "[run][membership][determinism]") {
  for (const char* file : {"/membership-change.toml", "/membership-churn.toml"}) {
    INFO(file);
    sim::run_options o = sim::instantiate(sim::load_scenario(std::string(DKV_SCENARIOS_DIR) + file), 7);
    o.record_script = true;
    const sim::run_report first = sim::run_random(o);
    const sim::run_report again = sim::run_random(sim::fixed_run(o, first));
    CHECK(again.trace_hash == first.trace_hash);
    CHECK(again.faults == first.faults);
  }
}
