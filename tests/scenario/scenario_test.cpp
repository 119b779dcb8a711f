// Scenario files: what they accept, how they refuse (file, line and key),
// what a seed draws, and that a written scenario reads back as the same run.

#include <catch2/catch.hpp>

#include <filesystem>

#include "sim/scenario/scenario.hpp"

namespace {

using namespace dkv::sim;

scenario parse(const std::string& text) { return parse_scenario(text, "test.toml"); }

// The message parsing `text` fails with.
std::string refusal(const std::string& text) {
  try {
    parse(text);
  } catch (const scenario_error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a scenario sets the run's options, the intent is the comment at its top", "[scenario]") {
  const scenario s = parse(R"(# Leader isolated: the leader is cut off
# and a new one must be elected.
duration = "20s"
seed = 7
bugs = ["figure8-commit"]
[cluster]
nodes = 5
pre_vote = false
[workload]
clients = 3
mix = { get = 1, set = 2, lock = 0 }
[network]
drop = 0.02
[[faults.at]]
time = "5s"
kind = "isolate"
node = "leader"
[[faults.at]]
time = "8s"
kind = "heal"
)");
  CHECK(s.intent == "Leader isolated: the leader is cut off and a new one must be elected.");
  REQUIRE(s.seed);
  CHECK(*s.seed == 7);
  const run_options o = instantiate(s, 7);
  CHECK(o.time_ns == 20'000'000'000);
  CHECK(o.nodes == 5);
  CHECK_FALSE(o.node.raft.pre_vote);
  CHECK(o.workload.clients == 3);
  CHECK(o.workload.mix.get == 1);
  CHECK(o.workload.mix.set == 2);
  CHECK(o.workload.mix.lock == 0);
  CHECK(o.workload.mix.has == operation_mix{}.has);  // what the file does not name keeps its default
  CHECK(o.network.drop == 0.02);
  CHECK(o.bugs == dkv::bugs::bit(dkv::bugs::bug::figure8_commit));
  REQUIRE(o.schedule.size() == 2);
  CHECK(o.schedule[0].role == node_role::leader);
  CHECK(o.schedule[0].what.kind == fault_kind::isolate);
  CHECK(o.schedule[1].what.kind == fault_kind::heal);
}

TEST_CASE("bad scenario files are refused with the file, line and key", "[scenario]") {
  CHECK(refusal("[cluster]\nnodez = 3\n") ==
        "test.toml:2:1: cluster.nodez: unknown key (scenarios/README.md lists the keys)");
  CHECK(refusal("[cluster]\nnodes = \"three\"\n") == "test.toml:2:9: cluster.nodes: must be a whole number");
  CHECK(refusal("[cluster]\nnodes = 12\n") == "test.toml:2:9: cluster.nodes: 12 is out of range [1, 9]");
  CHECK(refusal("duration = \"ten\"\n").find("test.toml:1:12: duration: must be a duration") == 0);
  CHECK(refusal("[network]\ndrop = [0.2, 0.1]\n").find("test.toml:2:8: network.drop: a range's low end") == 0);
  CHECK(refusal("[network]\ndrop = [0.1]\n").find("network.drop: a range is a pair") != std::string::npos);
  CHECK(refusal("bugs = [\"no-such-bug\"]\n")
            .find("test.toml:1:9: bugs: unknown bug 'no-such-bug' (known: follower-local-reads") == 0);
  CHECK(refusal("[[faults.at]]\ntime = \"1s\"\nkind = \"explode\"\n")
            .find("test.toml:3:8: faults.at.kind: must be one of") == 0);
  CHECK(refusal("[[faults.at]]\ntime = \"1s\"\nkind = \"crash\"\n").find("faults.at: this fault needs a node") !=
        std::string::npos);
  CHECK(refusal("[[faults.at]]\ntime = \"1s\"\nkind = \"crash\"\nnode = 4\n").find("beyond cluster.nodes") !=
        std::string::npos);
  CHECK(
      refusal("duration = \"5s\"\n[[faults.at]]\ntime = \"6s\"\nkind = \"heal\"\n").find("at or after the duration") !=
      std::string::npos);
  CHECK(refusal("[[workload.call]]\nop = \"frob\"\n").find("test.toml:2:6: workload.call.op: must be") == 0);
  CHECK(refusal("[[faults.at]]\ntime = \"1s\"\nkind = \"reboot\"\nnode = 1\n")
            .find("this fault needs a node and a downtime") != std::string::npos);
  CHECK(refusal("[[faults.at]]\ntime = \"1s\"\nkind = \"add_server\"\nnode = \"follower\"\n")
            .find("needs a node by number") != std::string::npos);
  CHECK(refusal("[cluster]\nnodes = 3\nfounders = 4\n").find("cluster.founders: must not exceed cluster.nodes") !=
        std::string::npos);
  CHECK(refusal("[[faults.at]]\ntime = \"1s\"\nkind = \"add_server\"\n").find("faults.at: this fault needs a node") !=
        std::string::npos);
  CHECK(refusal("[cluster]\nheartbeat_ticks = 10\nelection_ticks = 10\n")
            .find("must stay below cluster.election_ticks") != std::string::npos);
  CHECK(refusal("[cluster\nnodes = 3\n").find("test.toml:1:") == 0);  // TOML's own syntax errors keep their place
  CHECK(refusal("mystery = 1\n").find("test.toml:1:1: mystery: unknown key") == 0);
  CHECK_THROWS_WITH(load_scenario("/nonexistent/x.toml"),
                    "/nonexistent/x.toml: cannot open: No such file or directory");
}

TEST_CASE("a range is drawn per seed: the same seed draws the same, within the range", "[scenario]") {
  const scenario s =
      parse("[workload]\nclients = [1, 8]\n[network]\ndrop = [0.0, 0.1]\n[cluster]\npre_vote = [false, true]\n");
  std::set<std::size_t> clients;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const run_options a = instantiate(s, seed), b = instantiate(s, seed);
    CHECK(to_toml(a, "") == to_toml(b, ""));
    CHECK(a.workload.clients >= 1);
    CHECK(a.workload.clients <= 8);
    CHECK(a.network.drop >= 0.0);
    CHECK(a.network.drop <= 0.1);
    clients.insert(a.workload.clients);
  }
  CHECK(clients.size() >= 6);  // it really varies
  CHECK(drawn_settings(s, instantiate(s, 3)).size() == 3);
  CHECK(drawn_settings(parse("[workload]\nclients = 2\n"), run_options{}).empty());
}

TEST_CASE("a written scenario reads back as the same run", "[scenario]") {
  const scenario swarm = parse(R"(
duration = ["5s", "30s"]
[cluster]
nodes = [3, 5]
founders = 3
[workload]
key_skew = [0.0, 0.9]
[network]
drop = [0.0, 0.05]
[[faults.at]]
time = "2s"
kind = "split"
node = "leader"
side = 2
[[faults.at]]
time = "3s"
kind = "clock"
node = 2
skew = "-40ms"
drift_ppm = -300
[[faults.at]]
time = "4s"
kind = "remove_server"
node = "leader"
[[faults.at]]
time = "4500ms"
kind = "add_learner"
node = 3
[[faults.at]]
time = "4600ms"
kind = "reboot"
node = 2
downtime = "15ms"
[[workload.call]]
client = 1
at = "1500ms"
op = "setE"
key = "k\"1"
value = "v"
expire_in = 3
)");
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const run_options o = instantiate(swarm, seed);
    const std::string text = to_toml(o, "round trip");
    const scenario back = parse_scenario(text, "written.toml");
    INFO(text);
    CHECK(to_toml(instantiate(back, seed), "round trip") == text);
    CHECK(back.intent == "round trip");
  }
  const run_options o = instantiate(swarm, 1);
  REQUIRE(o.workload.scripted);
  CHECK(o.workload.script.at(0).call.key == "k\"1");
  CHECK(o.schedule.at(1).what.clock.skew_ns == -40'000'000);
  CHECK(o.founders == 3);
  CHECK(o.schedule.at(2).what.kind == fault_kind::remove_server);
  CHECK(o.schedule.at(2).role == node_role::leader);
  CHECK(o.schedule.at(3).what.kind == fault_kind::add_learner);
  CHECK(o.schedule.at(4).what.kind == fault_kind::reboot);
  CHECK(o.schedule.at(4).what.downtime_ns == 15'000'000);
}

TEST_CASE("every scenario in scenarios/ parses", "[scenario]") {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(DKV_SCENARIOS_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    INFO(entry.path());
    const scenario s = load_scenario(entry.path().string());
    CHECK_FALSE(s.intent.empty());
    CHECK_NOTHROW(instantiate(s, 1));
    ++files;
  }
  CHECK(files >= 1);
}
