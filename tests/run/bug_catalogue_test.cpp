// The injected-bug catalogue against the default swarm (scenarios/swarm.toml,
// follower-isolated.toml, elections.toml, figure8.toml, lost-disk.toml and
// wrong-members.toml, seeds interleaved as `dkv-sim bugs` takes them): every
// bug that the swarm is known to catch must fail a check within a fixed
// number of runs from fixed seeds, and each run that caught it must pass
// with the bug off — so it is the bug that fails, not the run.
//
// The escapes are bugs the default swarm does not catch (figure8-commit was
// one until figure8.toml); other tests catch them (the Raft core's random
// schedules and rule tests, tests/raft/ "[bugs]", or a run test). An escape
// the swarm learns to catch fails this test until it is taken off the list.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace {

using namespace dkv::sim;
namespace bugs = dkv::bugs;

constexpr std::size_t runs_per_bug = 32;
// Where a bug's runs begin: at the first seed, but for a bug that needs a
// rarer schedule (a deposed leader serving a read after its successor
// wrote) a few runs before one known to catch it (`dkv-sim bugs --bug NAME
// --jobs 1` finds one: its run count, less one, is the run's number here;
// how fast fresh seeds catch each bug is the benchmark's question).
std::size_t first_run(bugs::bug b) {
  switch (b) {
    case bugs::bug::leader_unconfirmed_reads: return 24;  // caught by run 28 (figure8 seed 5)
    case bugs::bug::figure8_commit: return 54;            // caught by run 58 (figure8 seed 10)
    default: return 0;
  }
}
// unchecked-promise needs a log cut deeper than a crash can cut, which only
// scenarios/limits/cut-log.toml makes, and there the sound code fails some
// seeds too (the promise's window, docs/durability.md): a catch there would
// not be the bug's. tests/run/machine_fault_run_test.cpp catches it instead,
// on seeds where the sound code passes.
const std::vector<bugs::bug> escapes = {bugs::bug::unchecked_promise};

// Under the sanitizers the escapes are left out: their 32 runs that catch
// nothing would be most of this test's time there, and they take no code
// path that the runs of the caught bugs do not. The normal build checks them.
#ifdef DKV_SANITIZED
constexpr bool check_escapes = false;
#else
constexpr bool check_escapes = true;
#endif

std::vector<scenario> default_swarm() {
  return {load_scenario(DKV_SCENARIOS_DIR "/swarm.toml"), load_scenario(DKV_SCENARIOS_DIR "/follower-isolated.toml"),
          load_scenario(DKV_SCENARIOS_DIR "/elections.toml"), load_scenario(DKV_SCENARIOS_DIR "/figure8.toml"),
          load_scenario(DKV_SCENARIOS_DIR "/lost-disk.toml"), load_scenario(DKV_SCENARIOS_DIR "/wrong-members.toml")};
}

}  // namespace

TEST_CASE("the default swarm catches every catalogued bug but the known escapes, and passes without it",
          "[run][bugs]") {
  const std::vector<scenario> swarm = default_swarm();
  for (const auto& info : bugs::catalogue()) {
    const bool escape = std::find(escapes.begin(), escapes.end(), info.id) != escapes.end();
    if (escape && !check_escapes) continue;
    std::string caught;
    for (std::size_t k = first_run(info.id); k < first_run(info.id) + runs_per_bug && caught.empty(); ++k) {
      const scenario& s = swarm[k % swarm.size()];
      run_options o = instantiate(s, 1 + k / swarm.size());
      o.bugs = bugs::bit(info.id);
      const run_report with_bug = run_random(o);
      if (with_bug.passed()) continue;
      caught = "dkv-sim run " + s.path + " --seed " + std::to_string(o.seed) + " --bug " + std::string(info.name) +
               ": " + with_bug.first_failure()->name;
      o.bugs = 0;
      INFO(caught);
      CHECK(run_random(o).passed());
    }
    INFO("bug " << info.name << (caught.empty() ? " not caught" : " caught by " + caught));
    CHECK(caught.empty() == escape);
  }
}
