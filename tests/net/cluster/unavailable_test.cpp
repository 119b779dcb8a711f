// `dkv serve` processes whose dstore shard cannot make progress answer
// their clients within a bound — a few election timeouts — as Unavailable
// with the reason, never leaving them to a timeout: a majority of members
// down (no leader), and a replica repairing damaged storage with no leader
// to repair from. `dkv status` shows the state, the log has it once when it
// begins and once when it ends. The servers' own deadline (--timeout) is
// long, so that an answer in time is the bound's. Child processes on
// loopback, each bounded in time.
//
// DKV_TEST_BINARY, if set, is the dkv run instead of this build's (to check
// that the tests fail against an older dkv).

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/client/remote_store.hpp"
#include "server_process.hpp"
#include "real/process/loopback_ports.hpp"
#include "tests/net/server/raw_socket.hpp"
#include "tests/support/temporary_directory.hpp"

namespace {

using namespace std::chrono_literals;
using dkv::test::server_process;
using steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr std::uint64_t shard = 200;
// --rtt-millisecond 10 x --election-rtt-factor 10: an election timeout is
// 100 ms, and a shard with no leader for three of them is unavailable. The
// answer may also wait for the old leader to step down (up to two election
// timeouts) and a client's backoff (up to 500 ms): 3 s is ample, and far
// below --timeout.
constexpr auto answer_bound = 3s;

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

struct three_servers {
  dkv::test::temporary_directory scratch{"dkv-unavailable"};  // first: removed after the servers are killed
  fs::path dir = scratch.path();
  std::vector<std::uint16_t> peer_ports, client_ports;
  std::vector<std::unique_ptr<server_process>> servers;
  int commands = 0;

  three_servers() {
    const std::vector<std::uint16_t> ports = dkv::real::free_ports(6);
    peer_ports.assign(ports.begin(), ports.begin() + 3);
    client_ports.assign(ports.begin() + 3, ports.end());
    for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<server_process>());
  }

  std::string name(std::size_t i) const { return dkv::test::member_name(i); }
  std::string log(std::size_t i) const { return (dir / (name(i) + ".log")).string(); }
  std::string endpoint(std::size_t i) const { return "127.0.0.1:" + std::to_string(client_ports[i]); }
  fs::path shard_dir(std::size_t i) const { return dir / name(i) / ("shard-" + std::to_string(shard)); }
  std::string logs() const {
    std::string all;
    for (std::size_t i = 0; i < 3; ++i) all += "--- " + name(i) + "\n" + dkv::test::tail_of(log(i), 3000);
    return all;
  }

  void start(std::size_t i) {
    const std::string members = dkv::test::loopback_members(peer_ports);
    servers[i]->start(dkv::test::dkv_binary(),
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
                       endpoint(i),
                       "--rtt-millisecond",
                       "10",
                       "--election-rtt-factor",
                       "10",
                       "--heartbeat-rtt-factor",
                       "1",
                       "--timeout",
                       "20",
                       "--log-level",
                       "info"},
                      log(i));
  }

  std::unique_ptr<dkv::net::remote_store> store(std::vector<std::size_t> which, std::chrono::milliseconds timeout) {
    dkv::net::remote_client_options o;
    for (std::size_t i : which) o.endpoints.push_back(endpoint(i));
    o.call_timeout = timeout;
    return std::make_unique<dkv::net::remote_store>(std::make_shared<dkv::net::remote_client>(o), shard);
  }

  // `dkv ARGS…` bounded in time: its exit code and its output.
  std::pair<int, std::string> run(const std::vector<std::string>& args) {
    const std::string out = (dir / ("command-" + std::to_string(++commands) + ".log")).string();
    server_process command;
    command.start(dkv::test::dkv_binary(), args, out);
    const std::optional<int> code = command.wait(30s);
    return {code.value_or(-1), dkv::test::text_of(out)};
  }
  std::pair<int, std::string> status(std::size_t i) {
    return run({"status", "--shard", std::to_string(shard), "--transport-endpoints", endpoint(i), "--timeout", "5"});
  }
};

// One request on a connection of its own, straight to server `i`'s client
// port, and how long its answer took.
struct timed_answer {
  dkv::net::message response;
  std::chrono::milliseconds took{};
  bool answered = false;
};

timed_answer ask(const three_servers& s, std::size_t i, dkv::net::message_type type, const std::string& key) {
  dkv::net::test::raw_socket socket(s.client_ports[i], 30s);
  dkv::net::message request;
  request.type = type;
  request.key = key;
  request.value = type == dkv::net::message_type::set ? "v" : "";
  const auto start = steady::now();
  socket.send(shard, 1, request);
  timed_answer a;
  dkv::net::frame_header header;
  a.answered = socket.read(header, a.response) == dkv::net::test::raw_socket::outcome::frame;
  a.took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
  return a;
}

constexpr std::uint8_t unavailable = static_cast<std::uint8_t>(dkv::error_code::unavailable);

void wait_for_write(dkv::istore& store, const std::string& logs) {
  const auto deadline = steady::now() + 30s;
  while (!store.Set("probe", "up").err.ok()) {
    INFO(logs);
    REQUIRE(steady::now() < deadline);
  }
}

bool wait_for_log(const std::string& path, const std::string& part, std::chrono::milliseconds bound) {
  const auto deadline = steady::now() + bound;
  while (dkv::test::text_of(path).find(part) == std::string::npos) {
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);  // polling a child's log file
  }
  return true;
}

// Flips one byte in the middle of the replica's first WAL segment.
void flip_a_byte_of_the_log(const fs::path& shard_dir) {
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(shard_dir))
    if (e.path().filename().string().rfind("wal-", 0) == 0) segments.push_back(e.path());
  REQUIRE(!segments.empty());
  std::sort(segments.begin(), segments.end());
  dkv::test::flip_middle_byte(segments.front().string());
}

}  // namespace

TEST_CASE("with a majority of members down, a server answers Unavailable with the reason within a bound",
          "[cluster][unavailable]") {
  three_servers s;
  for (std::size_t i = 0; i < 3; ++i) s.start(i);
  wait_for_write(*s.store({0, 1, 2}, 3s), s.logs());
  {
    auto [code, out] = s.status(0);
    INFO(out);
    CHECK(code == 0);
    CHECK_THAT(out, Catch::Contains("kind=dstore\nmember=node-1\nrole=") && Catch::Contains("\nrepairing=false\n"));
  }

  REQUIRE(s.servers[1]->stop(SIGKILL, 10s).has_value());
  REQUIRE(s.servers[2]->stop(SIGKILL, 10s).has_value());
  // A read at once: whatever node-1 knew of a leader, its answer comes within the bound.
  const timed_answer read = ask(s, 0, dkv::net::message_type::get, "probe");
  INFO(s.logs());
  REQUIRE(read.answered);
  INFO("get answered in " << read.took.count() << " ms: code " << int(read.response.code) << ", " << read.response.err);
  CHECK(read.took < answer_bound);
  CHECK(read.response.code == unavailable);
  CHECK_THAT(read.response.err, Catch::StartsWith("KVStoreError (code Unavailable): shard 200: no leader known for "));
  CHECK_THAT(read.response.err, Catch::Contains("it heard from 1 of 3 voters, itself included, in the last 300 ms"));
  // Said once in the log; from then on a write is refused at once too (it cannot be in doubt).
  REQUIRE(wait_for_log(s.log(0), "WARN  dkv serve: the replica of shard 200: unavailable: no leader known for ",
                       answer_bound));
  const timed_answer write = ask(s, 0, dkv::net::message_type::set, "k");
  INFO("set answered in " << write.took.count() << " ms: " << write.response.err);
  CHECK(write.answered);
  CHECK(write.took < 1s);
  CHECK(write.response.code == unavailable);
  CHECK_THAT(write.response.err, Catch::Contains("shard 200: no leader known for "));

  {  // The status says so, and fails as a health check.
    auto [code, out] = s.status(0);
    INFO(out);
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("\nleader=none\n") && Catch::Contains("\nunavailable=no leader known for "));
  }
  {  // dkv kv tries until its own deadline, then gives the server's reason.
    auto [code, out] =
        s.run({"kv", "set", "k", "v", "--shard", "200", "--transport-endpoints", s.endpoint(0), "--timeout", "2"});
    INFO(out);
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("Error: KVStoreError (code Unavailable): ") &&
                        Catch::Contains(s.endpoint(0) + " answered: shard 200: no leader known for "));
  }

  s.start(1);
  s.start(2);
  wait_for_write(*s.store({0}, 3s), s.logs());
  CHECK(wait_for_log(s.log(0), "INFO  dkv serve: the replica of shard 200: available again: ", 5s));
  const std::string log = dkv::test::text_of(s.log(0));
  CHECK(count_of(log, "the replica of shard 200: unavailable: ") == 1);
  CHECK(s.status(0).first == 0);
}

TEST_CASE("a replica repairing damaged storage, with no leader to repair from, answers Unavailable naming it",
          "[cluster][unavailable][durability]") {
  three_servers s;
  for (std::size_t i = 0; i < 3; ++i) s.start(i);
  {
    auto store = s.store({0, 1, 2}, 3s);
    wait_for_write(*store, s.logs());
    // One write at a time: many syncs, so the promise covers most of them.
    for (int i = 0; i < 200; ++i) REQUIRE(store->Set("key-" + std::to_string(i), "v").err.ok());
  }
  for (auto& server : s.servers) REQUIRE(server->stop(SIGKILL, 10s).has_value());
  flip_a_byte_of_the_log(s.shard_dir(0));

  s.start(0);  // alone: it repairs, but nobody leads
  REQUIRE(wait_for_log(s.log(0), "ERROR dkv serve: the replica of shard 200: its storage is damaged (", 10s));
  const timed_answer read = ask(s, 0, dkv::net::message_type::get, "key-1");
  INFO(s.logs());
  REQUIRE(read.answered);
  INFO("get answered in " << read.took.count() << " ms: " << read.response.err);
  CHECK(read.took < answer_bound);
  CHECK(read.response.code == unavailable);
  CHECK_THAT(read.response.err,
             Catch::Contains("shard 200: no leader known for ") &&
                 Catch::Contains("; this replica is repairing damaged storage (") &&
                 Catch::Contains(") and waits for a leader to repair from, neither voting nor counting toward a "
                                 "quorum until then; it heard from 1 of 3 voters"));
  {
    auto [code, out] = s.status(0);
    INFO(out);
    CHECK(code == 1);
    CHECK_THAT(out, Catch::Contains("\nrepairing=true\nstorage_problem=") &&
                        Catch::Contains("\nunavailable=no leader known for "));
  }

  // A healthy member alone cannot lead: the repairing one does not vote.
  s.start(1);
  REQUIRE(wait_for_log(s.log(1), "the replica of shard 200: unavailable: no leader known for ", 10s));
  const timed_answer still = ask(s, 0, dkv::net::message_type::set, "k");
  INFO("set answered in " << still.took.count() << " ms: " << still.response.err);
  CHECK(still.took < 1s);
  CHECK(still.response.code == unavailable);
  CHECK_THAT(still.response.err, Catch::Contains("it heard from 2 of 3 voters"));

  // With the third one a leader, the repair, and service through node-1.
  s.start(2);
  CHECK(wait_for_log(s.log(0), "INFO  dkv serve: the replica of shard 200: repaired its damaged storage: ", 20s));
  auto store = s.store({0}, 5s);
  wait_for_write(*store, s.logs());
  for (int i = 0; i < 200; ++i) CHECK(store->Get("key-" + std::to_string(i)).found);
  {
    auto [code, out] = s.status(0);
    INFO(out);
    CHECK(code == 0);
    CHECK_THAT(out, Catch::Contains("\nrepairing=false\n"));
  }
  const std::string log = dkv::test::text_of(s.log(0));
  CHECK(count_of(log, "ERROR dkv serve: the replica of shard 200: its storage is damaged") == 1);
  CHECK(count_of(log, "repaired its damaged storage") == 1);
}
