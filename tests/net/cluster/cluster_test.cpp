// Three `dkv serve` processes on loopback: a workload, kill -9 of the
// leader, writes go on, the killed server comes back; then every server is
// stopped and restarted. After each step every acknowledged write must be
// there. Bounded in time; it kills only the processes it started.

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/client/remote_store.hpp"
#include "server_process.hpp"
#include "real/process/loopback_ports.hpp"

namespace {

using namespace std::chrono_literals;
using dkv::test::server_process;

constexpr std::uint64_t shard = 200;

struct cluster {
  std::filesystem::path dir;
  std::vector<std::uint16_t> peer_ports, client_ports;
  std::vector<std::unique_ptr<server_process>> servers;

  explicit cluster(std::size_t n) {
    char pattern[] = "/tmp/dkv-cluster-XXXXXX";
    dir = ::mkdtemp(pattern);
    const std::vector<std::uint16_t> ports = dkv::real::free_ports(2 * n);
    peer_ports.assign(ports.begin(), ports.begin() + n);
    client_ports.assign(ports.begin() + n, ports.end());
    for (std::size_t i = 0; i < n; ++i) servers.push_back(std::make_unique<server_process>());
  }
  ~cluster() {
    servers.clear();  // SIGKILL whatever still runs
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  std::string name(std::size_t i) const { return dkv::test::member_name(i); }
  std::string log(std::size_t i) const { return (dir / (name(i) + ".log")).string(); }

  void start(std::size_t i) {
    const std::string members = dkv::test::loopback_members(peer_ports);
    servers[i]->start(DKV_BINARY,
                      {"serve",
                       "--shards",
                       "200=dstore",
                       "--replica-id",
                       name(i),
                       "--cluster-members",
                       members,
                       "--data-dir",
                       (dir / name(i)).string(),
                       "--transport-endpoint",
                       "127.0.0.1:" + std::to_string(client_ports[i]),
                       "--rtt-millisecond",
                       "10",
                       "--election-rtt-factor",
                       "10",
                       "--heartbeat-rtt-factor",
                       "1",
                       "--timeout",
                       "2",
                       "--snapshot-entries",
                       "150",
                       "--log-level",
                       "warn"},
                      log(i));
  }

  std::shared_ptr<dkv::net::remote_client> client() const {
    dkv::net::remote_client_options o;
    for (std::uint16_t p : client_ports) o.endpoints.push_back("127.0.0.1:" + std::to_string(p));
    o.call_timeout = 3s;
    return std::make_shared<dkv::net::remote_client>(o);
  }

  std::string logs() const {
    std::string all;
    for (std::size_t i = 0; i < servers.size(); ++i)
      all += "--- " + name(i) + ":\n" + dkv::test::tail_of(log(i)) + "\n";
    return all;
  }
};

// Tries a write until one succeeds (the cluster elected a leader), within `bound`.
bool wait_for_service(dkv::istore& store, std::chrono::seconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline)
    if (store.Set("__probe", "up").err.ok()) return true;  // each try waits up to the call timeout
  return false;
}

// Writes keys [from, to) once each; returns how many were acknowledged.
std::size_t write_keys(dkv::istore& store, int from, int to, std::map<std::string, std::string>& acked) {
  std::size_t ok = 0;
  for (int i = from; i < to; ++i) {
    const std::string key = "key-" + std::to_string(i), value = "value-" + std::to_string(i);
    if (store.Set(key, value).err.ok()) {
      acked[key] = value;
      ++ok;
    }
  }
  return ok;
}

// A read that finds no leader in time says nothing about the write: it is
// asked again, a few times, before it counts as missing.
dkv::get_result read_back(dkv::istore& store, const std::string& key) {
  dkv::get_result r = store.Get(key);
  for (int again = 0; again < 3 && !r.err.ok(); ++again) r = store.Get(key);
  return r;
}

void require_all_present(dkv::istore& store, const std::map<std::string, std::string>& acked, const cluster& c) {
  std::size_t missing = 0;
  std::string first;
  for (const auto& [key, value] : acked) {
    const dkv::get_result r = read_back(store, key);
    if (!r.err.ok() || !r.found || r.value != value) {
      if (missing++ == 0)
        first = key + ": " + (r.err.ok() ? (r.found ? "value " + r.value : "not found") : r.err.to_string());
    }
  }
  INFO("first missing " << first << "\n" << c.logs());
  REQUIRE(missing == 0);
}

std::size_t leader_of(dkv::istore& store, const cluster& c) {
  const dkv::db_info_result info = store.GetDBInfo();
  REQUIRE(info.err.ok());
  const auto it = info.info.metadata.find("raft_leader");
  REQUIRE(it != info.info.metadata.end());
  for (std::size_t i = 0; i < c.servers.size(); ++i)
    if (c.name(i) == it->second) return i;
  FAIL("db info names no member as leader: " << it->second);
  return 0;
}

}  // namespace

TEST_CASE("kill -9 of the leader, then a restart of every server, loses no acknowledged write", "[cluster]") {
  cluster c(3);
  for (std::size_t i = 0; i < 3; ++i) c.start(i);
  auto client = c.client();
  dkv::net::remote_store store(client, shard);
  INFO(c.logs());
  REQUIRE(wait_for_service(store, 30s));

  std::map<std::string, std::string> acked;
  REQUIRE(write_keys(store, 0, 300, acked) == 300);  // a healthy cluster acknowledges every write

  const std::size_t leader = leader_of(store, c);
  c.servers[leader]->kill_now();  // SIGKILL: no goodbye, unsynced buffers gone
  const std::size_t after_kill = write_keys(store, 300, 600, acked);
  INFO("acknowledged after the kill: " << after_kill << " of 300\n" << c.logs());
  CHECK(after_kill >= 250);  // a new leader takes over within a few election timeouts
  require_all_present(store, acked, c);

  c.start(leader);
  REQUIRE(write_keys(store, 600, 700, acked) >= 90);
  require_all_present(store, acked, c);

  for (std::size_t i = 0; i < 3; ++i) {
    const std::optional<int> status = c.servers[i]->stop(SIGTERM, 15s);
    INFO(c.logs());
    REQUIRE(status == 0);  // a graceful stop exits 0
  }
  for (std::size_t i = 0; i < 3; ++i) c.start(i);
  auto fresh = c.client();
  dkv::net::remote_store again(fresh, shard);
  REQUIRE(wait_for_service(again, 30s));
  require_all_present(again, acked, c);
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(c.servers[i]->stop(SIGTERM, 15s) == 0);
}

TEST_CASE("dkv serve refuses bad flags, a busy port and an unusable data directory", "[cluster]") {
  cluster c(1);
  const std::string members = dkv::test::member_entry(0, c.peer_ports[0]);
  const std::string endpoint = "127.0.0.1:" + std::to_string(c.client_ports[0]);
  const auto run = [&](std::vector<std::string> args) {
    server_process p;
    p.start(DKV_BINARY, args, c.log(0));
    return p.wait(20s);
  };
  CHECK(run({"serve", "--no-such-flag"}) == 2);
  CHECK(run({"serve", "--shards", "100=nosuchstore"}) == 2);
  CHECK(run({"serve", "--shards", "200=dstore", "--transport-endpoint", endpoint}) == 2);  // no members
  CHECK(run({"serve", "--shards", "200=dstore", "--replica-id", "node-9", "--cluster-members", members}) == 2);

  // A port somebody else holds.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor holder(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  CHECK(run({"serve", "--shards", "100=lstore", "--transport-endpoint",
             "127.0.0.1:" + std::to_string(holder.local_endpoint().port())}) == 1);
  CHECK(dkv::test::tail_of(c.log(0)).find("in use") != std::string::npos);

  // A data directory that is a file.
  const std::string file = (c.dir / "not-a-directory").string();
  { std::ofstream(file) << "x"; }
  CHECK(run({"serve", "--shards", "200=dstore", "--replica-id", "node-1", "--cluster-members", members, "--data-dir",
             file, "--transport-endpoint", endpoint}) == 1);
}
