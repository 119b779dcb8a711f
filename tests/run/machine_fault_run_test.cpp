// The double faults of a lost disk (scenarios/lost-disk.toml) and of a log
// cut short of what was synced (scenarios/limits/cut-log.toml) in the
// simulator: a member lags, the two others crash, and one of them comes back
// empty or with its log cut. With the sound code nothing acknowledged is
// lost on these seeds; with the check switched off (amnesiac-votes: the
// empty member votes as if it remembered; unchecked-promise: the cut member
// takes its log for whole) the writes it had acknowledged are lost, and the
// checks say so. (A cut of only what the last few syncs wrote is beyond
// what the promise can tell: about one seed in eighteen of cut-log.toml
// loses writes with the sound code too, which is why it lives in limits/ —
// docs/durability.md, "The limits".) And a machine replaced and started by
// mistake with a member list naming only itself (scenarios/wrong-members.toml):
// once the cluster that lists it reaches it, it refuses its clients; with
// lone-member-serves it acknowledges writes the cluster never sees.

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "sim/scenario/scenario.hpp"

namespace {

using namespace dkv::sim;
namespace bugs = dkv::bugs;

constexpr std::uint64_t seeds = 8;

void sound_passes_and_bug_fails(const std::string& file, bugs::bug unchecked) {
  const scenario s = load_scenario(DKV_SCENARIOS_DIR "/" + file);
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    run_options o = instantiate(s, seed);
    const run_report sound = run_random(o);
    INFO("dkv-sim run scenarios/" << file << " --seed " << seed << ": "
                                  << (sound.passed() ? "" : sound.first_failure()->detail));
    CHECK(sound.passed());
    o.bugs = bugs::bit(unchecked);
    const run_report buggy = run_random(o);
    INFO("with --bug " << bugs::info(unchecked).name);
    REQUIRE_FALSE(buggy.passed());
    const std::string failed = buggy.first_failure()->name;
    CHECK((failed == "agreement" || failed == "linearizability" || failed == "convergence" || failed == "elections" ||
           failed == "liveness"));
  }
}

}  // namespace

TEST_CASE("a lost disk on top of a lagging member loses nothing, voting as if it remembered loses writes",
          "[run][durability]") {
  sound_passes_and_bug_fails("lost-disk.toml", bugs::bug::amnesiac_votes);
}

TEST_CASE("a log cut short on top of a lagging member loses nothing, taking it for whole loses writes",
          "[run][durability]") {
  sound_passes_and_bug_fails("limits/cut-log.toml", bugs::bug::unchecked_promise);
}

TEST_CASE("a member started alone in its list stops answering once claimed, answering on splits the brain",
          "[run][identity]") {
  sound_passes_and_bug_fails("wrong-members.toml", bugs::bug::lone_member_serves);
}

TEST_CASE("a corrupted read of the identity file is read again, not taken for damage", "[run][durability]") {
  // figure8.toml at these seeds reads the identity file at a restart while
  // the simulated disk corrupts a read (disk.read_corruption): read once, it
  // looked damaged, and a sound node repaired storage no fault had damaged.
  const scenario s = load_scenario(DKV_SCENARIOS_DIR "/figure8.toml");
  for (std::uint64_t seed : {52, 293, 4001}) {
    const run_report r = run_random(instantiate(s, seed));
    INFO("dkv-sim run scenarios/figure8.toml --seed " << seed << ": " << (r.passed() ? "" : r.first_failure()->detail));
    CHECK(r.passed());
  }
}

TEST_CASE("a follower that snapshots every entry keeps, across a crash, the entries it acknowledged", "[run][durability]") {
  // lost-disk.toml with a snapshot every entry: the replay of an older
  // snapshot mark, whose own entry a later snapshot had let go with its
  // segment, cleared the log, and a follower lost the entry it had
  // acknowledged; with the leader's disk lost, the write was gone.
  std::ifstream file(DKV_SCENARIOS_DIR "/lost-disk.toml");
  std::stringstream text;
  text << file.rdbuf();
  const std::string every_entry =
      std::regex_replace(text.str(), std::regex("snapshot_every = [^\n]*"), "snapshot_every = 1");
  REQUIRE(every_entry != text.str());
  const scenario s = parse_scenario(every_entry, "lost-disk.toml");
  for (std::uint64_t seed : {5, 19}) {
    const run_report r = run_random(instantiate(s, seed));
    INFO("lost-disk.toml with cluster.snapshot_every = 1, seed " << seed << ": "
                                                                  << (r.passed() ? "" : r.first_failure()->detail));
    CHECK(r.passed());
  }
}
