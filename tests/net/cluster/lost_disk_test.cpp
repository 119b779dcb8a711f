// The double fault of a lost disk, with real `dkv serve` processes: node-2
// stops, node-1 and node-3 acknowledge 300 writes, both are killed, node-3's
// data directory is wiped (a replaced disk), and node-2 and node-3 start.
// An empty node-3 that voted as if it remembered would elect node-2, which
// never had the writes: they would be gone, also once node-1 returns. Here
// node-3 learns from node-2 that it forgot (store/raft/identity.hpp), logs it
// at ERROR, and the pair stays unavailable; once node-1 returns, every write
// is there. Loopback only; every wait is bounded.
//
// DKV_TEST_BINARY, if set, is the dkv run instead of this build's (to check
// that the test fails against an older dkv).

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "net/client/remote_store.hpp"
#include "server_process.hpp"
#include "real/process/loopback_ports.hpp"
#include "tests/support/temporary_directory.hpp"

namespace {

using namespace std::chrono_literals;
using dkv::test::server_process;
using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::uint64_t shard = 200;
constexpr int writes = 300;

struct three_nodes {
  dkv::test::temporary_directory scratch{"dkv-lost-disk"};  // first: removed after the servers are killed
  fs::path dir = scratch.path();
  std::vector<std::uint16_t> peer_ports, client_ports;
  server_process servers[3];
  int runs = 0;

  three_nodes() {
    const std::vector<std::uint16_t> ports = dkv::real::free_ports(6);
    peer_ports.assign(ports.begin(), ports.begin() + 3);
    client_ports.assign(ports.begin() + 3, ports.end());
  }

  static std::string name(std::size_t i) { return dkv::test::member_name(i); }
  fs::path data(std::size_t i) const { return dir / name(i); }
  std::string log(std::size_t i) const { return (dir / (name(i) + ".log")).string(); }

  void start(std::size_t i) {
    const std::string members = dkv::test::loopback_members(peer_ports);
    // Each run appends to the node's log: what it said before stays readable.
    servers[i].start(dkv::test::dkv_binary(),
                     {"serve", "--shards", "200=dstore", "--replica-id", name(i), "--cluster-members", members,
                      "--data-dir", data(i).string(), "--transport-endpoint",
                      "127.0.0.1:" + std::to_string(client_ports[i]), "--rtt-millisecond", "10",
                      "--election-rtt-factor", "50", "--heartbeat-rtt-factor", "2", "--timeout", "2", "--log-level",
                      "info"},
                     log(i) + "." + std::to_string(++runs));
  }
  void kill(std::size_t i) { REQUIRE(servers[i].stop(SIGKILL, 10s).has_value()); }

  dkv::net::remote_store store(std::vector<std::size_t> nodes, std::chrono::milliseconds timeout) const {
    dkv::net::remote_client_options o;
    for (std::size_t i : nodes) o.endpoints.push_back("127.0.0.1:" + std::to_string(client_ports[i]));
    o.call_timeout = timeout;
    return dkv::net::remote_store(std::make_shared<dkv::net::remote_client>(o), shard);
  }

  std::string logs() const {
    std::string all;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().find(".log.") != std::string::npos)
        all += "--- " + e.path().filename().string() + ":\n" + dkv::test::tail_of(e.path().string(), 1500) + "\n";
    return all;
  }
};

bool wait_for_write(dkv::istore& store, std::chrono::seconds bound) {
  const auto deadline = steady::now() + bound;
  while (steady::now() < deadline)
    if (store.Set("__probe", "up").err.ok()) return true;
  return false;
}

}  // namespace

TEST_CASE("a member whose disk was lost does not vote as if it remembered: no acknowledged write is lost",
          "[cluster][durability]") {
  three_nodes c;
  for (std::size_t i = 0; i < 3; ++i) c.start(i);
  {
    auto store = c.store({0, 1, 2}, 3s);
    REQUIRE(wait_for_write(store, 30s));
  }
  c.kill(1);
  {
    auto store = c.store({0, 2}, 3s);
    REQUIRE(wait_for_write(store, 30s));
    for (int i = 0; i < writes; ++i) REQUIRE(store.Set("key-" + std::to_string(i), "v").err.ok());
  }
  c.kill(0);
  c.kill(2);
  fs::remove_all(c.data(2));
  c.start(1);
  c.start(2);
  {
    // Neither may acknowledge a write: node-2 lacks the 300, node-3 forgot them.
    auto store = c.store({1, 2}, 1s);
    const auto until = steady::now() + 6s;
    int acknowledged = 0;
    dkv::error last;
    while (steady::now() < until) {
      last = store.Set("during", "x").err;
      acknowledged += last.ok() ? 1 : 0;
    }
    INFO(c.logs());
    CHECK(acknowledged == 0);
    // And they say why, rather than leave the client to its timeout.
    INFO(last.to_string());
    CHECK(last.code() == dkv::error_code::unavailable);
    CHECK_THAT(last.message(), Catch::Contains("shard 200: no leader known for "));
  }
  c.start(0);
  auto store = c.store({0, 1, 2}, 3s);
  REQUIRE(wait_for_write(store, 30s));
  int found = 0;
  for (int i = 0; i < writes; ++i) found += store.Get("key-" + std::to_string(i)).found ? 1 : 0;
  INFO(c.logs());
  CHECK(found == writes);
  CHECK(c.logs().find("its storage was lost") != std::string::npos);
}
