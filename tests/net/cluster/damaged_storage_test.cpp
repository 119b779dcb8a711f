// A `dkv serve` alone (its dstore shard's only voter) whose WAL lost what it
// had promised — its tail cut, every segment deleted, or a byte in its
// middle flipped, while it was down — must not serve as if nothing
// happened: it refuses to start, says what is lost and how to accept it,
// and with --accept-data-loss serves what is left. Child processes on
// loopback, each bounded in time.

#include <catch2/catch.hpp>

#include <algorithm>
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
namespace fs = std::filesystem;

struct lone_server {
  dkv::test::temporary_directory scratch{"dkv-damage"};
  fs::path dir = scratch.path();
  std::uint16_t peer_port = 0, client_port = 0;
  int runs = 0;

  lone_server() {
    const std::vector<std::uint16_t> ports = dkv::real::free_ports(2);
    peer_port = ports[0];
    client_port = ports[1];
  }

  std::string log() const { return (dir / ("run-" + std::to_string(runs) + ".log")).string(); }
  fs::path shard_dir() const { return dir / "data" / "shard-200"; }

  void start(dkv::test::server_process& p, std::vector<std::string> extra = {}) {
    ++runs;
    std::vector<std::string> args{"serve",
                                  "--shards",
                                  "200=dstore",
                                  "--replica-id",
                                  "node-1",
                                  "--cluster-members",
                                  dkv::test::member_entry(0, peer_port),
                                  "--data-dir",
                                  (dir / "data").string(),
                                  "--transport-endpoint",
                                  "127.0.0.1:" + std::to_string(client_port),
                                  "--rtt-millisecond",
                                  "10",
                                  "--timeout",
                                  "2",
                                  "--log-level",
                                  "info"};
    args.insert(args.end(), extra.begin(), extra.end());
    p.start(dkv::test::dkv_binary(), args, log());
  }

  std::unique_ptr<dkv::net::remote_store> store() const {
    dkv::net::remote_client_options o;
    o.endpoints.push_back("127.0.0.1:" + std::to_string(client_port));
    o.call_timeout = 3s;
    return std::make_unique<dkv::net::remote_store>(std::make_shared<dkv::net::remote_client>(o), 200);
  }

  std::vector<fs::path> segments() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(shard_dir()))
      if (e.path().filename().string().rfind("wal-", 0) == 0 && e.path().extension() == ".log") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
};

// Writes key-0..key-(n-1), one call each, once the server answers.
void write_keys(dkv::istore& store, int n) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!store.Set("probe", "up").err.ok()) REQUIRE(std::chrono::steady_clock::now() < deadline);
  for (int i = 0; i < n; ++i) REQUIRE(store.Set("key-" + std::to_string(i), "v").err.ok());
}

int found_keys(dkv::istore& store, int n) {
  int found = 0;
  for (int i = 0; i < n; ++i) found += store.Get("key-" + std::to_string(i)).found ? 1 : 0;
  return found;
}

}  // namespace

TEST_CASE("dkv serve alone refuses a WAL that lost what it promised, and serves what is left once told to",
          "[cluster][durability]") {
  lone_server s;
  {
    dkv::test::server_process p;
    s.start(p);
    write_keys(*s.store(), 200);
    REQUIRE(p.stop(SIGKILL, 10s).has_value());
  }
  std::string what;
  SECTION("its tail cut") {
    what = "tail cut";
    const std::vector<fs::path> segments = s.segments();
    REQUIRE(segments.size() == 1);
    fs::resize_file(segments.back(), fs::file_size(segments.back()) / 2);
  }
  SECTION("every WAL file deleted") {
    what = "deleted";
    for (const fs::path& segment : s.segments()) fs::remove(segment);
  }
  SECTION("a byte in the middle of the WAL flipped") {
    what = "flipped";
    const std::vector<fs::path> segments = s.segments();
    REQUIRE(segments.size() == 1);
    dkv::test::flip_middle_byte(segments.back().string());
  }
  INFO(what);
  {
    dkv::test::server_process p;
    s.start(p);
    const std::optional<int> code = p.wait(20s);
    INFO(dkv::test::tail_of(s.log()));
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    const std::string log = dkv::test::tail_of(s.log());
    CHECK_THAT(log, Catch::Contains("committed entries") && Catch::Contains("are lost"));
    CHECK_THAT(log, Catch::Contains("its storage is damaged and it has no peer to repair from") &&
                        Catch::Contains("--accept-data-loss"));
    if (what == "flipped") CHECK_THAT(log, Catch::Contains("checksum mismatch"));
  }
  {
    dkv::test::server_process p;
    s.start(p, {"--accept-data-loss"});
    auto store = s.store();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!store->Set("after", "accepted").err.ok()) REQUIRE(std::chrono::steady_clock::now() < deadline);
    const int left = found_keys(*store, 200);
    INFO(left << " of 200 keys left; " << dkv::test::tail_of(s.log()));
    CHECK(left < 200);
    CHECK_THAT(dkv::test::tail_of(s.log()), Catch::Contains("accepted the loss"));
    REQUIRE(p.stop(SIGTERM, 10s) == 0);
  }
  {  // Once accepted, the log as it is is what the node promises: it starts as usual.
    dkv::test::server_process p;
    s.start(p);
    auto store = s.store();
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!store->Get("after").found) REQUIRE(std::chrono::steady_clock::now() < deadline);
    REQUIRE(p.stop(SIGTERM, 10s) == 0);
  }
}
