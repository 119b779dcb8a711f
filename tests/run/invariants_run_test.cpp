// A broken invariant in a simulated run: the run stops where the assertion
// failed and reports it as its one failed check, "invariants", with the
// assertion's file, line, condition and values; the same seed fails the
// same way with the same trace, and passes with the bug off. The bug is
// the catalogue's apply-before-commit, whose replicas apply entries once
// durable, before they commit (replica::check_invariants asserts applied
// <= commit as each ready goes out).

#include <catch2/catch.hpp>

#include <sstream>

#include "sim/scenario/scenario.hpp"

namespace {

using namespace dkv::sim;
namespace bugs = dkv::bugs;

// A seed of the default scenario at which the bug strikes.
constexpr std::uint64_t failing_seed = 1;

}  // namespace

TEST_CASE("a failed assertion fails the simulated run at its seed, and the run ends cleanly", "[run][assert]") {
  run_options o = instantiate(load_scenario(DKV_SCENARIOS_DIR "/swarm.toml"), failing_seed);
  o.bugs = bugs::bit(bugs::bug::apply_before_commit);
  const run_report r = run_random(o);
  REQUIRE_FALSE(r.passed());
  REQUIRE(r.checks.size() == 1);  // what the others would say of a cluster stopped mid-step is moot
  const check_result& c = r.checks.front();
  CHECK(c.name == "invariants");
  CHECK(c.detail.starts_with("store/raft/replica.cpp:"));
  CHECK(c.detail.find(": applied_ <= commit_ (applied_=") != std::string::npos);
  CHECK(r.virtual_ns < o.time_ns);  // stopped there, not at the end

  std::ostringstream printed;
  print_report(r, printed);
  CHECK(printed.str().find("check invariants: FAIL — store/raft/replica.cpp:") != std::string::npos);

  const run_report again = run_random(o);
  CHECK(again.trace_hash == r.trace_hash);
  REQUIRE(again.first_failure());
  CHECK(again.first_failure()->detail == c.detail);

  o.bugs = 0;
  CHECK(run_random(o).passed());
}

TEST_CASE("a run without checks still fails on a broken invariant", "[run][assert]") {
  run_options o = instantiate(load_scenario(DKV_SCENARIOS_DIR "/swarm.toml"), failing_seed);
  o.bugs = bugs::bit(bugs::bug::apply_before_commit);
  o.check = false;  // as the benchmark runs
  const run_report r = run_random(o);
  REQUIRE(r.first_failure());
  CHECK(r.first_failure()->name == "invariants");
}
