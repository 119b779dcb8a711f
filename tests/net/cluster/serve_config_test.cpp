// `dkv serve` given a cluster it cannot be part of — a member named twice,
// two members at one address, a member list without its own --replica-id,
// a host that does not resolve — must stop at start with exit 2 and say
// what is wrong, not run as a member that never reaches a quorum. Each
// server is a child process bounded in time (one that runs on is killed).

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "real/process/loopback_ports.hpp"

namespace {

using namespace std::chrono_literals;

struct refusal {
  std::optional<int> exit_code;  // nothing: it was still running at the bound
  std::string log;
};

}  // namespace

TEST_CASE("dkv serve refuses a misconfigured cluster at start with exit 2 and names the problem", "[cluster][config]") {
  char pattern[] = "/tmp/dkv-config-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(pattern);
  const std::vector<std::uint16_t> ports = dkv::real::free_ports(3);
  const auto at = [&](std::size_t i, const std::string& host = "127.0.0.1") {
    return host + ":" + std::to_string(ports[i]);
  };
  int runs = 0;
  // `dkv serve` with one dstore shard as `replica` among `members`.
  const auto serve = [&](const std::string& replica, const std::string& members) {
    const std::string log = (dir / ("serve-" + std::to_string(++runs) + ".log")).string();
    dkv::test::server_process p;
    p.start(DKV_BINARY,
            {"serve", "--shards", "200=dstore", "--replica-id", replica, "--cluster-members", members, "--data-dir",
             (dir / "data").string(), "--transport-endpoint", at(2)},
            log);
    refusal r;
    r.exit_code = p.wait(10s);  // a refusal is immediate; a server that runs is killed here
    r.log = dkv::test::tail_of(log);
    return r;
  };
  const auto refused_with = [](const refusal& r, const std::string& why) {
    INFO(r.log);
    CHECK(r.exit_code == 2);
    CHECK(r.log.find("ERROR dkv serve: " + why) != std::string::npos);
  };

  refused_with(serve("node-1", "node-1=" + at(0) + ",node-1=" + at(1)),
               "--cluster-members: member node-1 is given twice");
  refused_with(serve("node-1", "node-1=" + at(0) + ",node-2=" + at(0)),
               "--cluster-members: members node-1 and node-2 are both at " + at(0));
  refused_with(serve("node-1", "node-1=" + at(0) + ",node-2=" + at(0, "localhost")),
               "--cluster-members: members node-1 (" + at(0) + ") and node-2 (" + at(0, "localhost") +
                   ") are one address, " + at(0));
  refused_with(serve("node-9", "node-1=" + at(0) + ",node-2=" + at(1)),
               "--replica-id 'node-9' is not among --cluster-members (node-1, node-2)");
  // .invalid is reserved never to resolve (RFC 6761): another member's host, and its own.
  refused_with(serve("node-1", "node-1=" + at(0) + ",node-2=" + at(1, "no-such-host.invalid")),
               "--cluster-members: member node-2: host 'no-such-host.invalid' does not resolve");
  refused_with(serve("node-1", "node-1=" + at(0, "no-such-host.invalid") + ",node-2=" + at(1)),
               "--cluster-members: member node-1: host 'no-such-host.invalid' does not resolve");
  // Nothing was started: no data directory was made.
  CHECK_FALSE(std::filesystem::exists(dir / "data"));

  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

// The test hook real runs make clock faults with: the file is read at start
// and at each SIGUSR1; a file that does not parse is said and changes nothing;
// the server runs on throughout and stops on SIGTERM as ever.
TEST_CASE("dkv serve --clock-file sets its clock at start and at each SIGUSR1, and keeps it on a bad file",
          "[cluster][config]") {
  char pattern[] = "/tmp/dkv-clock-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(pattern);
  const std::vector<std::uint16_t> ports = dkv::real::free_ports(2);
  const std::string clock_file = (dir / "clock").string();
  const std::string log = (dir / "serve.log").string();
  const auto write_clock = [&](const std::string& text) { std::ofstream(clock_file) << text << std::flush; };
  // Polling the child's log: bounded, and there is no event to wait on.
  const auto logged = [&](const std::string& text, std::size_t times = 1) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      const std::string all = dkv::test::text_of(log);
      std::size_t seen = 0;
      for (std::size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++seen;
      if (seen >= times) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };

  write_clock("5000000000 -2000");
  dkv::test::server_process p;
  p.start(DKV_BINARY,
          {"serve", "--shards", "200=dstore", "--replica-id", "node-1", "--cluster-members",
           dkv::test::member_entry(0, ports[0]), "--data-dir", (dir / "data").string(), "--transport-endpoint",
           "127.0.0.1:" + std::to_string(ports[1]), "--clock-file", clock_file},
          log);
  INFO(dkv::test::tail_of(log));
  REQUIRE(logged("clock set 5000000000 ns off, drifting -2000 ppm"));
  REQUIRE(logged("listening for clients"));

  write_clock("-3000000000 150000");
  p.send_signal(SIGUSR1);
  CHECK(logged("clock set -3000000000 ns off, drifting 150000 ppm"));

  write_clock("soon");
  p.send_signal(SIGUSR1);
  CHECK(logged("not \"SKEW_NS DRIFT_PPM\"", 1));
  write_clock("0 2000000");  // a drift of 200 %: out of range
  p.send_signal(SIGUSR1);
  CHECK(logged("the clock stays as it was", 2));
  CHECK(dkv::test::text_of(log).find("clock set 0 ns") == std::string::npos);

  CHECK(p.stop(SIGTERM, 10s) == 0);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}
