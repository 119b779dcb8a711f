// dkv-sim's real runs (real/run): a scenario's seed against dkv serve
// processes on loopback, with real crashes, partitions through the fault
// proxy and pauses, judged by the checks. Short, as CI's one real scenario;
// the larger measures (every bug, many seeds) are benchmarks run by hand
// (docs/testing.md).
//
// DKV_TEST_BINARY, if set, is the dkv run instead of this build's.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "real/run/real_run.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/support/temporary_directory.hpp"

namespace {

std::string dkv_binary() {
  const char* other = std::getenv("DKV_TEST_BINARY");
  return other && *other ? other : DKV_BINARY;
}

std::string text_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

// dkv-lazyfs when it was built and FUSE can mount it (else "": crashes keep the page cache).
std::string lazy_file_system() {
#ifdef DKV_LAZYFS
  if (::access("/dev/fuse", R_OK | W_OK) == 0 && ::access("/bin/fusermount3", X_OK) == 0) return DKV_LAZYFS;
#endif
  WARN("no dkv-lazyfs or no /dev/fuse here: the crash is a kill -9 that the page cache survives");
  return {};
}

const dkv::sim::check_result* check_named(const dkv::real::real_report& r, const std::string& name) {
  for (const dkv::sim::check_result& c : r.run.checks)
    if (c.name == name) return &c;
  return nullptr;
}

std::string summary(const dkv::real::real_report& r) {
  std::ostringstream out;
  dkv::real::print_real_report(r, out);
  return out.str();
}

}  // namespace

TEST_CASE(
    "a real run of crash-partition-pause: the leader crashed, cut off, a follower paused, every check passes "
    "and every process is stopped",
    "[real]") {
  dkv::test::temporary_directory dir{"dkv-real-test"};
  const dkv::sim::scenario s = dkv::sim::load_scenario(DKV_SOURCE_DIR "/scenarios/crash-partition-pause.toml");
  dkv::sim::run_options options = dkv::sim::instantiate(s, 1);
  std::ostringstream history;
  options.history = &history;
  dkv::real::real_options real;
  real.dkv_binary = dkv_binary();
  real.dir = dir.path();
  real.lazyfs = lazy_file_system();
  const dkv::real::real_report report = dkv::real::run_real(options, real);
  INFO(summary(report));
  CHECK(report.run.passed());
  if (!real.lazyfs.empty()) {  // the data sat on the lazy file systems, and they are unmounted
    for (const auto& [what, count] : report.not_made) CHECK_THAT(what, !Catch::Contains("power loss"));
    for (int n = 1; n <= 3; ++n)
      CHECK_FALSE(
          std::ifstream(std::filesystem::path(dir.path()) / ("node-" + std::to_string(n) + ".mnt") / ".lazyfs"));
  }
  CHECK(report.run.faults.at("crash") == 1);
  CHECK(report.run.faults.at("restart") == 1);
  CHECK(report.run.faults.at("partition") == 1);
  CHECK(report.run.faults.at("pause") == 1);
  CHECK(report.run.outcomes.at("ok") > 100);
  for (const char* name : {"liveness", "convergence", "linearizability", "elections"}) {
    const dkv::sim::check_result* c = check_named(report, name);
    REQUIRE(c != nullptr);
    CHECK_FALSE(c->skipped);
  }
  CHECK(check_named(report, "agreement")->skipped);
  // The partition went through the proxy: the isolated leader lost its term.
  CHECK_THAT(check_named(report, "elections")->detail, !Catch::StartsWith("1 terms"));
  // Every node was stopped by the run, not left behind.
  for (int n = 1; n <= 3; ++n) {
    const std::string log = text_of(std::filesystem::path(dir.path()) / ("node-" + std::to_string(n) + ".log"));
    INFO("node-" << n << ":\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
    CHECK_THAT(log, Catch::Contains("dkv serve: stopped"));
  }
  CHECK_THAT(history.str(), Catch::Contains(R"("fault": "pause")"));
}

TEST_CASE("a real run fails its checks when the servers are broken on purpose (dkv serve --bug raw-index-clock)",
          "[real]") {
  dkv::test::temporary_directory dir{"dkv-real-test"};
  const dkv::sim::scenario s = dkv::sim::load_scenario(DKV_SOURCE_DIR "/scenarios/calm.toml");
  dkv::sim::run_options options = dkv::sim::instantiate(s, 1);
  options.time_ns = 3'000'000'000;
  options.nodes = 3;
  options.bugs = dkv::bugs::bit(dkv::bugs::bug::raw_index_clock);
  dkv::real::real_options real;
  real.dkv_binary = dkv_binary();
  real.dir = dir.path();
  const dkv::real::real_report report = dkv::real::run_real(options, real);
  INFO(summary(report));
  REQUIRE_FALSE(report.run.passed());
  CHECK(report.run.first_failure()->name == "linearizability");
}
