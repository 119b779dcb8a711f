// The dkv command line against a live `dkv serve` on loopback: dKV's kv and
// lock commands with their outputs and exit codes, `dkv kv perf` briefly,
// and bad flags (exit 2) or a server nobody runs (exit 1) refused with a
// clear error. Every command runs as a child process bounded in time.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"
#include "real/process/loopback_ports.hpp"

namespace {

using namespace std::chrono_literals;
using dkv::test::server_process;

struct command_result {
  std::optional<int> exit_code;  // nothing: it did not end in time
  std::string output;            // stdout and stderr
};

class cli {
 public:
  cli() : dir_(make_dir()), port_(dkv::real::free_ports(1)[0]) {
    server_.start(DKV_BINARY,
                  {"serve", "--shards", "100=lstore,300=lockmgr(lstore)", "--transport-endpoint", endpoint(),
                   "--log-level", "warn"},
                  (dir_ / "server.log").string());
  }
  ~cli() {
    server_.kill_now();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

  command_result run(const std::vector<std::string>& args) {
    const std::string log = (dir_ / ("command-" + std::to_string(++commands_) + ".log")).string();
    server_process command;
    command.start(DKV_BINARY, args, log);
    command_result r;
    r.exit_code = command.wait(30s);
    std::ifstream in(log);
    std::ostringstream text;
    text << in.rdbuf();
    r.output = text.str();
    return r;
  }
  // `dkv kv|lock SUB ARGS… --shard S --transport-endpoints <the server>`
  command_result on_shard(std::uint64_t shard, const std::string& group, std::vector<std::string> args) {
    args.insert(args.begin(), group);
    for (const std::string& flag : {std::string("--shard"), std::to_string(shard), std::string("--transport-endpoints"),
                                    endpoint(), std::string("--timeout"), std::string("5")})
      args.push_back(flag);
    return run(args);
  }
  command_result kv(std::vector<std::string> args) { return on_shard(100, "kv", std::move(args)); }
  command_result lock(std::vector<std::string> args) { return on_shard(300, "lock", std::move(args)); }

  std::string server_log() const { return dkv::test::tail_of((dir_ / "server.log").string()); }
  void kill_server() { server_.kill_now(); }
  std::filesystem::path dir() const { return dir_; }

 private:
  static std::filesystem::path make_dir() {
    char pattern[] = "/tmp/dkv-cli-XXXXXX";
    return ::mkdtemp(pattern);
  }

  std::filesystem::path dir_;
  std::uint16_t port_;
  server_process server_;
  int commands_ = 0;
};

// The first write that goes through: the server is up (bounded tries).
bool wait_for_server(cli& c) {
  for (int attempt = 0; attempt < 50; ++attempt)
    if (c.kv({"set", "__probe", "up"}).exit_code == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("dkv kv and dkv lock speak to a server as dKV's commands do", "[cluster][cli]") {
  cli c;
  INFO(c.server_log());
  REQUIRE(wait_for_server(c));

  command_result r = c.kv({"set", "k", "v1"});
  CHECK(r.exit_code == 0);
  CHECK(r.output == "set successfully\n");
  r = c.kv({"get", "k"});
  CHECK(r.exit_code == 0);
  CHECK(r.output == "key=k, found=true, resp=v1\n");
  CHECK(c.kv({"has", "k"}).output == "key=k, found=true\n");
  CHECK(c.kv({"get", "nothing-here"}).output == "key=nothing-here, found=false, resp=\n");

  CHECK(c.kv({"setE", "k2", "v2", "0", "0"}).output == "setE successfully\n");
  CHECK(c.kv({"setEIfUnset", "k2", "v3", "0", "0"}).exit_code == 0);
  CHECK(c.kv({"get", "k2"}).output == "key=k2, found=true, resp=v2\n");  // it was set: unchanged
  CHECK(c.kv({"expr", "k2"}).output == "expire successfully\n");
  CHECK(c.kv({"get", "k2"}).output == "key=k2, found=false, resp=\n");  // expired now
  CHECK(c.kv({"del", "k"}).output == "delete successfully\n");
  CHECK(c.kv({"has", "k"}).output == "key=k, found=false\n");

  r = c.lock({"acquire", "L"});
  CHECK(r.exit_code == 0);
  std::smatch owner;
  REQUIRE(std::regex_search(r.output, owner, std::regex("^acquired=true, ownedId=([0-9a-f]+), index=\\d+\n$")));
  CHECK(c.lock({"acquire", "L"}).output == "acquired=false\n");  // held
  CHECK(c.lock({"release", "L", owner[1].str()}).exit_code == 0);
  CHECK(c.lock({"acquire", "L"}).output.starts_with("acquired=true"));  // free again
}

TEST_CASE("dkv kv perf measures a server and prints a line per benchmark", "[cluster][cli]") {
  cli c;
  INFO(c.server_log());
  REQUIRE(wait_for_server(c));
  const command_result r =
      c.kv({"perf", "--seconds", "0.05", "--threads", "4", "--keys", "10", "--only", "set,get,has-not"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  for (const char* name : {"set", "get", "has-not"})
    CHECK(std::regex_search(r.output,
                            std::regex(std::string("\n") + name + " +\\d+ns/op .*\\d+ ops/sec\tLatency: p50=")));
  CHECK(std::regex_search(r.output, std::regex("\ndelete +skipped\n")));
}

TEST_CASE("dkv kv perf stops soon, with exit 1 and why, when its server dies under it", "[cluster][cli]") {
  cli c;
  INFO(c.server_log());
  REQUIRE(wait_for_server(c));
  const std::string log = (c.dir() / "perf.log").string();
  server_process perf;
  perf.start(DKV_BINARY,
             {"kv", "--shard", "100", "--transport-endpoints", c.endpoint(), "--timeout", "5", "perf", "--seconds", "20"},
             log);
  // Polling its log for the first line: the benchmark is under way then.
  for (int i = 0; i < 250 && dkv::test::text_of(log).find("dkv kv perf: shard") == std::string::npos; ++i)
    std::this_thread::sleep_for(20ms);
  c.kill_server();
  // Seven benchmarks of 20 s would run on (each call waiting out its 5 s): it stops instead.
  const std::optional<int> exit_code = perf.wait(15s);
  const std::string output = dkv::test::text_of(log);
  INFO(output);
  CHECK(exit_code == 1);
  CHECK(output.find("dkv kv perf: stopped in set: the server stopped answering") != std::string::npos);
}

TEST_CASE("dkv refuses bad flags with exit code 2 and reports an absent server with 1", "[cluster][cli]") {
  cli c;
  CHECK(c.run({"kv", "--no-such-flag"}).exit_code == 2);
  CHECK(c.run({"kv", "get"}).exit_code == 2);  // no key
  command_result r = c.kv({"perf", "--only", "nosuch"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--only nosuch: no such benchmark") != std::string::npos);
  r = c.kv({"get", "k", "--transport", "carrier-pigeon"});
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--transport carrier-pigeon") != std::string::npos);

  const std::uint16_t nobody = dkv::real::free_ports(1)[0];
  r = c.run({"kv", "get", "k", "--shard", "100", "--transport-endpoints", "127.0.0.1:" + std::to_string(nobody),
             "--timeout", "1"});
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("Error: KVStoreError (code Unavailable)") != std::string::npos);
}
