// dkv-check as users run it: verdict lines, exit codes, unreadable input, bad
// usage, and an HTML report that headless Chromium renders completely.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/run_command.hpp"

namespace {

using dkv::test::run_result;
const auto run = dkv::test::run_command;

const std::string tool = DKV_CHECK_TOOL;
const std::string data = DKV_TESTDATA;

struct scratch_dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("dkv-check-test-" + std::to_string(::getpid()));
  scratch_dir() { std::filesystem::create_directories(path); }
  ~scratch_dir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& content) const {
    const auto p = path / name;
    std::ofstream(p) << content;
    return p.string();
  }
};

}  // namespace

TEST_CASE("dkv-check: one line per file and the exit code of the worst verdict", "[check][tool]") {
  const run_result ok = run(tool + " " + data + "/jepsen/etcd_002.log " + data + "/kv/c01-ok.txt");
  REQUIRE(ok.exit_code == 0);
  REQUIRE(ok.output == data + "/jepsen/etcd_002.log: linearizable\n" + data + "/kv/c01-ok.txt: linearizable\n");

  const run_result bad = run(tool + " " + data + "/kv/c01-bad.txt " + data + "/kv/c01-ok.txt");
  REQUIRE(bad.exit_code == 1);
  REQUIRE(bad.output.find("c01-bad.txt: not linearizable\n") != std::string::npos);
}

TEST_CASE("dkv-check: unreadable files say why, unknowns and bad usage exit 2", "[check][tool]") {
  scratch_dir dir;
  const std::string broken = dir.file("broken.log", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\ngarbage\n");
  const run_result unreadable = run(tool + " " + broken + " " + data + "/kv/c01-ok.txt");
  REQUIRE(unreadable.exit_code == 3);
  REQUIRE(unreadable.output.find("broken.log: unreadable (line 2: not a Jepsen event line)") != std::string::npos);
  REQUIRE(run(tool + " " + broken + " " + data + "/kv/c01-bad.txt").exit_code == 1);  // not linearizable wins

  const run_result usage = run(tool + " --frobnicate x");
  REQUIRE(usage.exit_code == 2);
  REQUIRE(run(tool + " --model nonsense " + broken).exit_code == 2);
  REQUIRE(run(tool).exit_code == 2);

  // A model forced onto the wrong format is a reading error, not a crash.
  REQUIRE(run(tool + " --model register " + data + "/kv/c01-ok.txt").exit_code == 3);
}

TEST_CASE("dkv-check: what holds no history is refused, named on stderr, exit 2, and nothing is checked",
          "[check][tool]") {
  // Read as nothing, each of these used to be an empty history: "linearizable", exit 0.
  scratch_dir dir;
  struct refused {
    std::string path, why;
  };
  const std::vector<refused> files = {
      {dir.path.string(), "is a directory"},
      {dir.file("empty.jsonl", ""), "is empty"},
      {dir.file("blank.jsonl", "\n  \n\t\r\n"), "holds nothing but blank space"},
      {data + "/jepsen/etcd_095.log", "is empty"},  // the one empty file of Porcupine's data
      {(dir.path / "missing.log").string(), "cannot open: No such file or directory"},
  };
  for (const refused& f : files) {
    INFO(f.path);
    // Only what it writes to stderr (stdout goes nowhere): one line.
    const run_result r = run("{ " + tool + " " + f.path + " >/dev/null; }");
    CHECK(r.exit_code == 2);
    CHECK(r.output == "dkv-check: " + f.path + ": " + f.why + "\n");
  }
  // Among good files, and with one that is not linearizable: still 2, and no verdict printed.
  const run_result mixed =
      run(tool + " " + data + "/kv/c01-bad.txt " + dir.path.string() + " " + data + "/kv/c01-ok.txt");
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.output == "dkv-check: " + dir.path.string() + ": is a directory\n");
}

TEST_CASE("dkv-check: --no-split and --timeout", "[check][tool]") {
  REQUIRE(run(tool + " --no-split " + data + "/kv/c10-ok.txt").exit_code == 0);
  const run_result quick = run(tool + " --timeout 0.000001 --no-split " + data + "/kv/c50-ok.txt");
  REQUIRE(quick.exit_code == 2);
  REQUIRE(quick.output.find(": unknown") != std::string::npos);
}

namespace {

// The page as headless Chromium has drawn it: its DOM after the script ran.
std::string rendered(const std::string& page) {
  const run_result dom = run("timeout 120 chromium --headless --no-sandbox --disable-gpu --dump-dom file://" + page);
  INFO(dom.output.substr(0, 2000));
  REQUIRE(dom.exit_code == 0);
  return dom.output;
}

int attribute(const std::string& dom, const std::string& name) {
  std::smatch match;
  INFO(name);
  REQUIRE(std::regex_search(dom, match, std::regex(name + "=\"([0-9]+)\"")));
  return std::stoi(match[1]);
}

std::size_t count(const std::string& dom, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = dom.find(what); at != std::string::npos; at = dom.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("dkv-check --html: a report headless Chromium renders", "[check][tool][html]") {
  scratch_dir dir;
  const std::string report = (dir.path / "report.html").string();
  REQUIRE(run(tool + " --html " + report + " " + data + "/jepsen/etcd_000.log").exit_code == 1);
  REQUIRE(std::filesystem::file_size(report) > 1000);

  // The number of bars is the number of operations in the file.
  const run_result ops = run("grep -c ':invoke' " + data + "/jepsen/etcd_000.log");
  const int invocations = std::stoi(ops.output);

  const std::string dom = rendered(report);
  INFO(dom.substr(0, 3000));
  CHECK(attribute(dom, "data-rendered") == invocations);
  // The verdict list (dkv-check's one check), the headline saying it failed,
  // the axis (a Jepsen log's clock is its line numbers), the point it
  // failed at, and no node lanes: the log names no node.
  CHECK(attribute(dom, "data-checks") == 1);
  CHECK(count(dom, "class=\"verdict verdict-fail\"") == 1);
  CHECK(dom.find("FAILED: linearizability") != std::string::npos);
  CHECK(count(dom, "class=\"tick\"") >= 3);
  CHECK(attribute(dom, "data-marks") == 1);
  CHECK(count(dom, "class=\"failure-mark\"") == 1);
  CHECK(attribute(dom, "data-node-lanes") == 0);
}

TEST_CASE("dkv-check --html: a dkv history's node lanes, time axis and fault list", "[check][tool][html]") {
  scratch_dir dir;
  // Three nodes; node 1 leads, is cut off, crashes and comes back; a read
  // returns what nobody wrote.
  const std::string history = dir.file("run.jsonl", R"({"t": 0, "type": "meta", "seed": 1, "scenario": "s", "nodes": 3}
{"t": 1000000, "type": "node", "node": 1, "role": "leader", "term": 2}
{"t": 1000000, "type": "node", "node": 2, "role": "follower", "term": 2}
{"t": 200000000, "process": 1, "type": "invoke", "f": "set", "key": "k", "value": "a"}
{"t": 250000000, "process": 1, "type": "ok", "f": "set", "key": "k", "index": 1}
{"t": 300000000, "type": "fault", "fault": "partition", "node": 1, "groups": [[1], [2, 3]], "description": "isolate 1"}
{"t": 600000000, "type": "fault", "fault": "crash", "node": 1, "description": "crash 1"}
{"t": 700000000, "type": "fault", "fault": "heal", "description": "heal"}
{"t": 900000000, "type": "fault", "fault": "restart", "node": 1, "description": "restart 1"}
{"t": 900000000, "type": "node", "node": 1, "role": "follower", "term": 3}
{"t": 1100000000, "process": 2, "type": "invoke", "f": "get", "key": "k"}
{"t": 1200000000, "process": 2, "type": "ok", "f": "get", "key": "k", "found": true, "value": "b", "index": 1}
{"t": 1300000000, "process": 1000000, "type": "invoke", "f": "set", "key": "liveness", "value": "probe0"}
{"t": 1350000000, "process": 1000000, "type": "ok", "f": "set", "key": "liveness", "index": 2}
)");
  const std::string report = (dir.path / "run.html").string();
  REQUIRE(run(tool + " --html " + report + " " + history).exit_code == 1);
  const std::string dom = rendered(report);
  INFO(dom.substr(0, 3000));
  CHECK(attribute(dom, "data-rendered") == 3);
  CHECK(attribute(dom, "data-node-lanes") == 3);
  CHECK(count(dom, "class=\"node-lane\"") == 3);
  CHECK(count(dom, "class=\"span span-down\"") == 2);  // cut off, then not
  CHECK(count(dom, "class=\"cut\"") == 4);             // every node on one side or the other, node 1 twice
  CHECK(dom.find("probe 1000000") != std::string::npos);
  CHECK(dom.find(">1.0 s<") != std::string::npos);  // a tick of the time axis
  CHECK(count(dom, "class=\"fault\"") == 4);        // the fault list
  CHECK(attribute(dom, "data-marks") == 1);         // the read that cannot be placed
}
