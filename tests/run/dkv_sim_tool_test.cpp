// dkv-sim as users run it: the report, the exit codes, the history file, and
// the determinism self-check across processes (one seed run by two
// processes must print the same trace hash).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"
#include "store/bugs.hpp"
#include "tests/support/run_command.hpp"

namespace {

using dkv::test::run_result;

run_result run(const std::string& arguments) {
  return dkv::test::run_command(std::string(DKV_SIM_TOOL) + " " + arguments);
}

std::string trace_hash(const std::string& output) {
  std::smatch m;
  REQUIRE(std::regex_search(output, m, std::regex("trace hash: ([0-9a-f]{16})\n")));
  return m[1];
}

}  // namespace

TEST_CASE("dkv-sim run prints the hash, outcomes, faults and verdicts, and exits 0", "[run][tool]") {
  const run_result r = run("run --seed 3 --time 10s");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(std::regex_search(r.output, std::regex("outcomes: fail \\d+ info \\d+ ok \\d+")));
  CHECK(std::regex_search(r.output, std::regex("faults: ")));
  for (const char* check : {"liveness", "agreement", "convergence", "linearizability"})
    CHECK(r.output.find("check " + std::string(check) + ": PASS") != std::string::npos);
}

TEST_CASE("one seed in two processes gives one trace hash", "[run][tool][determinism]") {
  const run_result a = run("run --seed 11 --time 8s");
  const run_result b = run("run --seed 11 --time 8s");
  CHECK(trace_hash(a.output) == trace_hash(b.output));
  CHECK(trace_hash(run("run --seed 12 --time 8s").output) != trace_hash(a.output));
}

TEST_CASE("dkv-sim exits 1 when a check fails", "[run][tool]") {
  // Seed 5 with nodes that acknowledge before their log is durable loses writes.
  const run_result r = run("run --seed 5 --time 60s --bug ack-before-durable");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find(": FAIL") != std::string::npos);
}

TEST_CASE("dkv-sim exits 2 on bad usage", "[run][tool]") {
  CHECK(run("").exit_code == 2);
  CHECK(run("run --time ten").exit_code == 2);
  CHECK(run("run --nodes 0").exit_code == 2);
  CHECK(run("run --frobnicate").exit_code == 2);
  CHECK(run("run --history /nonexistent-dir/h.jsonl").exit_code == 2);
}

TEST_CASE("dkv-sim --history writes the run's history, and it checks as linearizable", "[run][tool]") {
  const auto path =
      std::filesystem::temp_directory_path() / ("dkv-sim-history-" + std::to_string(::getpid()) + ".jsonl");
  const run_result r = run("run --seed 5 --time 5s --history " + path.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(path);
  dkv::check::history h;
  dkv::check::parse_error error;
  REQUIRE(dkv::check::parse_history(text.str(), h, error));
  CHECK(h.format == dkv::check::history_format::dkv_json);
  CHECK(h.operations.size() > 50);
  CHECK_FALSE(h.faults.empty());
  dkv::check::check_options options;
  options.model = dkv::check::model_kind::dkv;
  CHECK(dkv::check::check_history(h, options).result == dkv::check::verdict::linearizable);
  CHECK(text.str().rfind("{\"t\": 0, \"type\": \"meta\", \"seed\": 5", 0) == 0);
}

namespace {

// A scratch folder for one test, removed at its end.
struct scratch {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("dkv-sim-test-" + std::to_string(::getpid()));
  scratch() { std::filesystem::create_directories(path); }
  ~scratch() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& text = "") const {
    const auto p = path / name;
    if (!text.empty()) std::ofstream(p) << text;
    return p.string();
  }
};

const std::string scenarios = DKV_SCENARIOS_DIR;

}  // namespace

TEST_CASE("dkv-sim run SCENARIO prints its intent, what the seed drew and the verdict", "[run][tool][scenario]") {
  const run_result r = run("run " + scenarios + "/swarm.toml --seed 2 --time 5s");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("dkv-sim: scenario swarm (") != std::string::npos);
  CHECK(r.output.find("The default swarm:") != std::string::npos);
  CHECK(std::regex_search(r.output, std::regex("drawn for this seed: duration = \"[^\"]+\"; cluster.nodes = [345];")));
  CHECK(r.output.find("verdict: PASS (6 checks)") != std::string::npos);
}

TEST_CASE("bad scenario files, unknown bugs and misfit flags: a clear error, exit 2, nothing runs",
          "[run][tool][scenario]") {
  const scratch dir;
  const std::string bad = dir.file("bad.toml", "duration = \"5s\"\n[workload]\nclientz = 3\n");
  run_result r = run("run " + bad);
  CHECK(r.exit_code == 2);
  CHECK(r.output == "dkv-sim: " + bad + ":3:1: workload.clientz: unknown key (scenarios/README.md lists the keys)\n");
  r = run("run --bug no-such-bug");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown bug 'no-such-bug' (known: follower-local-reads, ") != std::string::npos);
  r = run("run " + dir.file("missing.toml"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("missing.toml: cannot open: No such file or directory") != std::string::npos);
  r = run("run " + scenarios + "/total-crash.toml --nodes 3");  // its faults name nodes 4 and 5
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("does not fit a cluster of 3 nodes") != std::string::npos);
  CHECK(run("swarm --seeds 0").exit_code == 2);
  CHECK(run("bugs --bug nope").exit_code == 2);
}

TEST_CASE("every command refuses a scenario that is no file of settings: exit 2, the file named on stderr",
          "[run][tool][scenario]") {
  // Read as nothing, a directory or an empty file used to be the default
  // scenario: a one-minute run that passed.
  const scratch dir;
  const std::string empty = dir.file("empty.toml");
  std::ofstream{empty};  // created, nothing written
  struct refused {
    std::string path, why;
  };
  const std::vector<refused> files = {
      {dir.path.string(), "is a directory"},
      {empty, "is empty"},
      {dir.file("blank.toml", "\n  \n\t\n"), "holds nothing but blank space"},
      {dir.file("missing.toml"), "cannot open: No such file or directory"},
  };
  for (const refused& f : files) {
    for (const std::string& command :
         {"run " + f.path + " --time 1s", "replay " + f.path + " --seed 1 --time 1s",
          "shrink " + f.path + " --seed 1 --time 1s --budget 1s", "swarm " + f.path + " --seeds 1 --jobs 1",
          "swarm " + scenarios + "/swarm.toml " + f.path + " --seeds 1 --jobs 1",
          "bugs --scenario " + f.path + " --bug ack-before-durable --budget 1s --shrink-budget 1s --jobs 1"}) {
      INFO(command);
      // Only what it writes to stderr (stdout goes nowhere): one line.
      const run_result r = dkv::test::run_command("{ " + std::string(DKV_SIM_TOOL) + " " + command + " >/dev/null; }");
      CHECK(r.exit_code == 2);
      CHECK(r.output == "dkv-sim: " + f.path + ": " + f.why + "\n");
    }
  }
}

TEST_CASE("a failing run writes its history and report, and replays exactly", "[run][tool][scenario]") {
  const scratch dir;
  const run_result r = run("run --seed 5 --time 60s --bug no-session-dedup --out " + dir.path.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 1);
  CHECK(r.output.find("verdict: FAIL (agreement)") != std::string::npos);
  CHECK(std::filesystem::file_size(dir.path / "random-seed5.jsonl") > 1000);
  CHECK(std::filesystem::file_size(dir.path / "random-seed5.html") > 1000);
  CHECK(r.output.find("replay:  dkv-sim replay --seed 5 --bug no-session-dedup --time 60s\n") != std::string::npos);

  // The report is the run's: every check's verdict, the failing one as the
  // headline, a lane per node (drawn by headless Chromium, as check_tool_tests does).
  const run_result dom =
      dkv::test::run_command("timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom file://" +
                             (dir.path / "random-seed5.html").string());
  REQUIRE(dom.exit_code == 0);
  CHECK(dom.output.find("data-checks=\"6\"") != std::string::npos);
  CHECK(dom.output.find("data-node-lanes=\"3\"") != std::string::npos);
  CHECK(dom.output.find("FAILED: agreement") != std::string::npos);
  CHECK(dom.output.find("data-rendered=") != std::string::npos);
  CHECK(r.output.find("shrink:  dkv-sim shrink --seed 5 --bug no-session-dedup --time 60s\n") != std::string::npos);

  const run_result again =
      run("replay --seed 5 --time 60s --bug no-session-dedup --check-determinism --out " + dir.path.string());
  INFO(again.output);
  CHECK(again.exit_code == 1);
  CHECK(trace_hash(again.output) == trace_hash(r.output));
  CHECK(std::regex_search(again.output, std::regex("determinism: PASS — \\d+ events, the same in both runs")));
}

TEST_CASE("dkv-sim shrink prints a small scenario that run accepts and that still fails", "[run][tool][scenario]") {
  const scratch dir;
  const std::string out = dir.file("shrunk.toml");
  // A budget far above the time it needs (7 s in release, about 60 s under
  // the sanitizers): on a slow machine the default 60 s ran out before the
  // case was small, and the test failed on the clock, not on the shrinker.
  const run_result r = run("shrink --seed 5 --time 60s --bug no-session-dedup --budget 400s --output " + out);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m, std::regex("became (\\d+) calls and (\\d+) faults")));
  CHECK(std::stoi(m[1]) <= 20);
  CHECK(std::stoi(m[2]) <= 5);
  const run_result replayed = run("run " + out + " --out " + dir.path.string());
  INFO(replayed.output);
  CHECK(replayed.exit_code == 1);
  CHECK(replayed.output.find("bugs: no-session-dedup") != std::string::npos);
  CHECK(replayed.output.find("verdict: FAIL (agreement)") != std::string::npos);
}

TEST_CASE("dkv-sim swarm runs seeds in parallel processes and tabulates them", "[run][tool][scenario]") {
  const scratch dir;
  const run_result r = run("swarm " + scenarios + "/calm.toml " + scenarios +
                           "/leader-isolated.toml --seeds 3 --jobs 2 --out " + dir.path.string());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(std::regex_search(r.output, std::regex("calm +3 +0 +\\d+\n")));
  CHECK(std::regex_search(r.output, std::regex("leader-isolated +3 +0 +\\d+\n")));
  CHECK(r.output.find("6 passed, 0 failed\n") != std::string::npos);

  const run_result failing = run(
      "swarm " + scenarios +
      "/follower-isolated.toml --seeds 4 --jobs 2 --fail-fast --bug no-prevote-checkquorum --out " + dir.path.string());
  INFO(failing.output);
  CHECK(failing.exit_code == 1);
  CHECK(failing.output.find(": stable-leader — dkv-sim replay ") != std::string::npos);
}

TEST_CASE("a failed assertion is a failing run with its seed, replay and shrink commands, a swarm counts it",
          "[run][tool][assert]") {
  const scratch dir;
  const run_result r =
      run("run " + scenarios + "/swarm.toml --seed 1 --bug apply-before-commit --out " + dir.path.string());
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("check invariants: FAIL — store/raft/replica.cpp:") != std::string::npos);
  CHECK(r.output.find("verdict: FAIL (invariants)") != std::string::npos);
  CHECK(r.output.find("replay:  dkv-sim replay ") != std::string::npos);
  CHECK(r.output.find("shrink:  dkv-sim shrink ") != std::string::npos);

  const run_result swarm =
      run("swarm " + scenarios + "/swarm.toml --seeds 2 --jobs 2 --bug apply-before-commit --out " + dir.path.string());
  INFO(swarm.output);
  CHECK(swarm.exit_code == 1);
  CHECK(swarm.output.find("swarm seed 1: invariants — dkv-sim replay ") != std::string::npos);
  CHECK(swarm.output.find("crash(") == std::string::npos);  // no worker died
}

TEST_CASE("dkv-sim bugs --list names every bug and where it lives", "[run][tool]") {
  const run_result r = run("bugs --list");
  CHECK(r.exit_code == 0);
  for (const auto& b : dkv::bugs::catalogue()) {
    CHECK(r.output.find(std::string(b.name)) != std::string::npos);
    CHECK(r.output.find(std::string(b.site)) != std::string::npos);
  }
}
