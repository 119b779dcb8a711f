// A `dkv serve` started with the wrong member list or cluster token next to
// a running 3-node cluster — the configuration mistakes that used to make a
// split brain, or a cluster where every write is Unavailable, without a
// word. The stranger D takes the place (name and peer port) of a stopped
// follower, so that the cluster's leader reaches D and D reaches the
// members its list names. They must refuse each other, both sides must log
// an ERROR that names the difference, once per source however often the
// links reconnect, D must not take part in the cluster's group, and the
// cluster must keep its leader and acknowledge every write.
//
// DKV_TEST_BINARY, if set, is the dkv run instead of this build's (to check
// that the tests fail against an older dkv).

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
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

constexpr std::uint64_t shard = 200;

// Lines of `text` that contain every one of `parts`.
std::size_t count_lines(const std::string& text, const std::vector<std::string>& parts) {
  std::size_t n = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool all = true;
    for (const std::string& p : parts) all = all && line.find(p) != std::string::npos;
    n += all;
  }
  return n;
}

std::shared_ptr<dkv::net::remote_client> client_of(const std::vector<std::uint16_t>& ports,
                                                   std::chrono::milliseconds timeout) {
  dkv::net::remote_client_options o;
  for (std::uint16_t p : ports) o.endpoints.push_back("127.0.0.1:" + std::to_string(p));
  o.call_timeout = timeout;
  return std::make_shared<dkv::net::remote_client>(o);
}

// Three members node-1..3 (their list is `members()`), and a fourth
// process, the stranger, with a client port and a data directory of its own.
struct cluster_and_stranger {
  dkv::test::temporary_directory scratch{"dkv-identity"};  // first: removed after the servers are killed
  std::filesystem::path dir = scratch.path();
  std::vector<std::uint16_t> peer_ports, client_ports;  // [3] of client_ports: the stranger's
  server_process servers[3], stranger;

  cluster_and_stranger() {
    const std::vector<std::uint16_t> ports = dkv::real::free_ports(7);
    peer_ports.assign(ports.begin(), ports.begin() + 3);
    client_ports.assign(ports.begin() + 3, ports.end());
  }

  static std::string name(std::size_t i) { return dkv::test::member_name(i); }
  std::string entry(std::size_t i) const { return dkv::test::member_entry(i, peer_ports[i]); }
  std::string members() const { return dkv::test::loopback_members(peer_ports); }
  std::string log(std::size_t i) const { return (dir / (name(i) + ".log")).string(); }
  std::string stranger_log() const { return (dir / "stranger.log").string(); }

  // `dkv serve` as `name` among `members`, with `token` through the environment (as DKV_CLUSTER_TOKEN).
  static void serve(server_process& p, const std::string& name, const std::string& members, std::uint16_t client_port,
                    const std::filesystem::path& data, const std::string& log, const std::string& token = "") {
    std::vector<std::string> args{
        "DKV_CLUSTER_TOKEN=" + token, dkv::test::dkv_binary(), "serve", "--shards", "200=dstore", "--replica-id", name,
        "--cluster-members", members, "--data-dir", data.string(), "--transport-endpoint",
        "127.0.0.1:" + std::to_string(client_port), "--rtt-millisecond", "10",
        // Half a second: no election from a busy moment on a loaded machine.
        "--election-rtt-factor", "50", "--heartbeat-rtt-factor", "2", "--timeout", "2", "--log-level", "info"};
    p.start("/usr/bin/env", args, log);  // env execs dkv: the same process
  }
  void start(std::size_t i) { serve(servers[i], name(i), members(), client_ports[i], dir / name(i), log(i)); }
  void start_stranger(const std::string& name, const std::string& members, const std::string& token = "") {
    serve(stranger, name, members, client_ports[3], dir / "stranger", stranger_log(), token);
  }

  std::string logs() const {
    std::string all;
    for (std::size_t i = 0; i < 3; ++i) all += "--- " + name(i) + ":\n" + dkv::test::tail_of(log(i), 3000) + "\n";
    return all + "--- stranger:\n" + dkv::test::tail_of(stranger_log(), 3000) + "\n";
  }
};

// The member that db info names as the group's leader, or "" if none answers.
std::string leader_of(dkv::istore& store) {
  const dkv::db_info_result info = store.GetDBInfo();
  if (!info.err.ok()) return "";
  const auto it = info.info.metadata.find("raft_leader");
  return it == info.info.metadata.end() ? "" : it->second;
}

// Sets keys while `until` is false, for at most `bound`; every write must be acknowledged.
template <class Until>
std::size_t write_while(dkv::istore& store, std::chrono::seconds bound, Until until, std::size_t& failed) {
  const auto deadline = steady::now() + bound;
  std::size_t n = 0;
  while (!until() && steady::now() < deadline) {
    const std::string key = "key-" + std::to_string(n++);
    if (!store.Set(key, "value").err.ok()) ++failed;
  }
  return n;
}

// A line a log must hold once: every one of `parts`.
struct expected_line {
  std::string log;
  std::vector<std::string> parts;
};

// The scenario every test shares: the cluster serves, a follower F stops,
// the stranger starts in its place (F's name and peer port) with
// `stranger_members(F)` and `token`, and writes go on until every
// `expected(leader, F)` line is logged. Then writes go on for three seconds
// more — the refused links reconnect every second meanwhile — and each line
// must still be there once only; every write must have been acknowledged
// and the cluster must still have its leader.
template <class Members, class Expected>
void run(cluster_and_stranger& c, Members stranger_members, const std::string& token, Expected expected) {
  for (std::size_t i = 0; i < 3; ++i) c.start(i);
  auto client = client_of({c.client_ports[0], c.client_ports[1], c.client_ports[2]}, 3s);
  dkv::net::remote_store store(client, shard);
  const auto up_by = steady::now() + 30s;
  while (!store.Set("__probe", "up").err.ok() && steady::now() < up_by) {
  }
  const std::string leader_name = leader_of(store);
  {
    INFO(c.logs());
    REQUIRE(!leader_name.empty());
  }
  std::size_t leader = 0;
  for (std::size_t i = 0; i < 3; ++i)
    if (c.name(i) == leader_name) leader = i;
  const std::size_t follower = (leader + 1) % 3;
  REQUIRE(c.servers[follower].stop(SIGTERM, 15s) == 0);
  c.start_stranger(c.name(follower), stranger_members(follower), token);

  // The cluster as the two members left serve it.
  auto rest = client_of({c.client_ports[leader], c.client_ports[(leader + 2) % 3]}, 3s);
  dkv::net::remote_store survivors(rest, shard);
  const std::vector<expected_line> lines = expected(leader, follower);
  const auto logged = [&](std::size_t times) {
    for (const expected_line& l : lines)
      if (count_lines(dkv::test::text_of(l.log), l.parts) != times) return false;
    return true;
  };
  std::size_t failed = 0;
  write_while(
      survivors, 30s, [&] { return logged(1); }, failed);
  {
    INFO(c.logs());
    REQUIRE(logged(1));
  }
  const auto window_ends = steady::now() + 3s;
  const std::size_t written = write_while(
      survivors, 10s, [&] { return steady::now() >= window_ends; }, failed);
  INFO(c.logs());
  for (const expected_line& l : lines) {
    INFO(l.log << " must hold once a line with all of:");
    for (const std::string& part : l.parts) INFO("  " << part);
    CHECK(count_lines(dkv::test::text_of(l.log), l.parts) == 1);
  }
  CHECK(written > 0);
  CHECK(failed == 0);
  CHECK(leader_of(survivors) == leader_name);  // the stranger disturbed no one
}

// Whether a write through the stranger alone is acknowledged.
bool stranger_acknowledges(const cluster_and_stranger& c) {
  auto through = client_of({c.client_ports[3]}, 2s);
  dkv::net::remote_store store(through, shard);
  return store.Set("through-the-stranger", "split brain").err.ok();
}

std::string port_of(const cluster_and_stranger& c, std::size_t i) {
  return "127.0.0.1:" + std::to_string(c.peer_ports[i]);
}

// What a receiver logs when it refuses member `number` (named `entry` in
// the sender's list), and what a sender logs when `entry` (member `number`
// of its list) refuses it.
std::string refused_from(const cluster_and_stranger& c, std::size_t at, std::uint64_t number,
                         const std::string& entry) {
  return "ERROR dkv serve: peers on " + port_of(c, at) +
         ": refused a connection from 127.0.0.1 claiming to be member " + std::to_string(number) + " (" + entry +
         " in its list): it belongs to another cluster: ";
}
std::string refused_by(std::uint64_t number, const std::string& entry) {
  return "ERROR dkv serve: peer " + entry + " (member " + std::to_string(number) +
         ") refused our connection: it belongs to another cluster: ";
}
std::string lists(const std::string& theirs, const std::string& ours) {
  return "its members are '" + theirs + "', ours are '" + ours + "' (cluster id ";
}

}  // namespace

TEST_CASE("a lone node with a member list of only itself, in a member's place, is refused both ways and stops "
          "answering",
          "[cluster][identity]") {
  cluster_and_stranger c;
  const auto alone = [&](std::size_t f) { return c.entry(f); };
  // The leader sends the stranger heartbeats; the stranger, alone in its
  // list, sends to nobody — it is a cluster of its own, and says so. Once
  // the cluster that lists it has reached it, it refuses its clients: it
  // alone would acknowledge writes the cluster never sees.
  const std::string refuses = "ERROR dkv serve: the replica of shard 200: this replica is alone in its member list, "
                              "but a member of another cluster that lists it reached it (";
  run(c, alone, "", [&](std::size_t leader, std::size_t f) {
    return std::vector<expected_line>{
        {c.stranger_log(), {refused_from(c, f, leader + 1, c.entry(leader)), lists(c.members(), c.entry(f))}},
        {c.log(leader), {refused_by(f + 1, c.entry(f)), lists(c.entry(f), c.members())}},
        {c.stranger_log(), {refuses, c.entry(leader) + ", from 127.0.0.1: it belongs to another cluster: "}},
    };
  });
  auto through = client_of({c.client_ports[3]}, 2s);
  dkv::net::remote_store store(through, shard);
  const auto refused = store.Set("through-the-stranger", "split brain");
  INFO(refused.err.to_string());
  CHECK(refused.err.code() == dkv::error_code::unavailable);
  CHECK_THAT(refused.err.message(), Catch::Contains("shard 200: this replica is alone in its member list"));
}

TEST_CASE("a member given the list in another order is refused both ways and takes no part", "[cluster][identity]") {
  cluster_and_stranger c;
  const auto reversed = [&] { return c.entry(2) + "," + c.entry(1) + "," + c.entry(0); };
  // The stranger F is member 3 - F of its list; it campaigns, so it reaches both members.
  run(
      c, [&](std::size_t) { return reversed(); }, "",
      [&](std::size_t leader, std::size_t f) {
        const std::size_t other = (leader + 2) % 3;
        return std::vector<expected_line>{
            {c.stranger_log(), {refused_from(c, f, leader + 1, c.entry(leader)), lists(c.members(), reversed())}},
            {c.stranger_log(), {refused_by(3 - leader, c.entry(leader)), lists(c.members(), reversed())}},
            {c.stranger_log(), {refused_by(3 - other, c.entry(other)), lists(c.members(), reversed())}},
            {c.log(leader), {refused_from(c, leader, 3 - f, c.entry(f)), lists(reversed(), c.members())}},
            {c.log(leader), {refused_by(f + 1, c.entry(f)), lists(reversed(), c.members())}},
            {c.log(other), {refused_from(c, other, 3 - f, c.entry(f)), lists(reversed(), c.members())}},
        };
      });
  CHECK_FALSE(stranger_acknowledges(c));
}

TEST_CASE("a member given another --cluster-token is refused both ways and takes no part", "[cluster][identity]") {
  cluster_and_stranger c;
  const std::string same = "its members are ours ('" + c.members() + "') but its --cluster-token differs";
  run(
      c, [&](std::size_t) { return c.members(); }, "staging",
      [&](std::size_t leader, std::size_t f) {
        const std::size_t other = (leader + 2) % 3;
        return std::vector<expected_line>{
            {c.stranger_log(), {refused_from(c, f, leader + 1, c.entry(leader)), same}},
            {c.stranger_log(), {refused_by(leader + 1, c.entry(leader)), same}},
            {c.stranger_log(), {refused_by(other + 1, c.entry(other)), same}},
            {c.log(leader), {refused_from(c, leader, f + 1, c.entry(f)), same}},
            {c.log(leader), {refused_by(f + 1, c.entry(f)), same}},
            {c.log(other), {refused_from(c, other, f + 1, c.entry(f)), same}},
        };
      });
  CHECK_FALSE(stranger_acknowledges(c));
  // dkv serve says at start which cluster it takes itself for: two ids.
  const std::string stranger_log = dkv::test::text_of(c.stranger_log()), first_log = dkv::test::text_of(c.log(0));
  const auto id_line = [](const std::string& log) {
    const std::size_t at = log.find("INFO  dkv serve: cluster ");
    return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
  };
  CHECK_THAT(id_line(first_log), Catch::Matchers::EndsWith(": members " + c.members() + ", no --cluster-token"));
  CHECK_THAT(id_line(stranger_log), Catch::Matchers::EndsWith(": members " + c.members() + ", with a --cluster-token"));
  CHECK(id_line(first_log).substr(0, 41) != id_line(stranger_log).substr(0, 41));
}

TEST_CASE("a member restarted on its data directory with another list or token refuses to start, naming both",
          "[cluster][identity]") {
  cluster_and_stranger c;
  for (std::size_t i = 0; i < 3; ++i) c.start(i);
  {
    auto client = client_of({c.client_ports[0], c.client_ports[1], c.client_ports[2]}, 3s);
    dkv::net::remote_store store(client, shard);
    const auto up_by = steady::now() + 30s;
    while (!store.Set("kept", "yes").err.ok() && steady::now() < up_by) {
    }
  }
  REQUIRE(c.servers[2].stop(SIGTERM, 15s) == 0);
  const std::filesystem::path data = c.dir / c.name(2);
  const std::string record = dkv::test::text_of((data / "CLUSTER").string());
  CHECK_THAT(record, Catch::StartsWith("dkv cluster ") && Catch::Contains("\nmembers " + c.members() + "\n"));

  struct wrong {
    std::string members, token, says;
  };
  const std::string reversed = c.entry(2) + "," + c.entry(1) + "," + c.entry(0);
  const std::vector<wrong> mistakes = {
      // Alone in its list on its old log: it would elect itself and acknowledge writes nobody else has.
      {c.entry(2), "", "it was created with --cluster-members '" + c.members() + "', and this server was given '" +
                           c.entry(2) + "'"},
      {reversed, "", "it was created with --cluster-members '" + c.members() + "', and this server was given '" +
                         reversed + "'"},
      {c.members(), "staging", "it was created with the same --cluster-members but another --cluster-token"},
  };
  int attempt = 0;
  for (const wrong& w : mistakes) {
    const std::string log = (c.dir / ("wrong-" + std::to_string(++attempt) + ".log")).string();
    server_process p;
    cluster_and_stranger::serve(p, c.name(2), w.members, c.client_ports[2], data, log, w.token);
    const std::optional<int> code = p.wait(20s);
    const std::string said = dkv::test::text_of(log);
    INFO(said);
    CHECK(code == 2);
    CHECK_THAT(said, Catch::Contains("ERROR dkv serve: the data directory " + data.string() + " belongs to cluster ") &&
                         Catch::Contains(w.says) && Catch::Contains("or give it another --data-dir"));
    CHECK(dkv::test::text_of((data / "CLUSTER").string()) == record);  // the record is left as it was
  }

  // With its own list it serves again, with what it had.
  c.start(2);
  auto through = client_of({c.client_ports[2]}, 3s);
  dkv::net::remote_store store(through, shard);
  const auto up_by = steady::now() + 30s;
  dkv::get_result kept;
  while (!(kept = store.Get("kept")).err.ok() && steady::now() < up_by) {
  }
  INFO(c.logs());
  CHECK(kept.found);
  CHECK(kept.value == "yes");
}
