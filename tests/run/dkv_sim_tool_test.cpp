// dkv-sim as users run it: the report, the exit codes, the history file, and
// the determinism self-check across processes (one seed run by two
// processes must print the same trace hash).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "sim/check/checker.hpp"
#include "sim/history/parse.hpp"
#include "tests/support/run_command.hpp"

namespace {

using dkv::test::run_result;

run_result run(const std::string& arguments) { return dkv::test::run_command(std::string(DKV_SIM_TOOL) + " " + arguments); }

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
  const auto path = std::filesystem::temp_directory_path() / ("dkv-sim-history-" + std::to_string(::getpid()) + ".jsonl");
  const run_result r = run("run --seed 5 --time 5s --history " + path.string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(path);
  dkv::sim::history h;
  dkv::sim::parse_error error;
  REQUIRE(dkv::sim::parse_history(text.str(), h, error));
  CHECK(h.format == dkv::sim::history_format::dkv_json);
  CHECK(h.operations.size() > 50);
  CHECK_FALSE(h.faults.empty());
  dkv::sim::check_options options;
  options.model = dkv::sim::model_kind::dkv;
  CHECK(dkv::sim::check_history(h, options).result == dkv::sim::verdict::linearizable);
  CHECK(text.str().rfind("{\"t\": 0, \"type\": \"meta\", \"seed\": 5", 0) == 0);
}
