// The IStore conformance suite, unchanged, for remote_store against
// in-process dkv::net::server objects serving a dstore shard over loopback:
// one member (with the default snapshot interval, and with a snapshot every
// 50 entries), and three members in one process. reopen is a real restart:
// every server is destroyed and started again on the same data directories
// and peer ports, so the case reads back what the WAL and snapshots kept.
//
// Each make() gets fresh data directories, servers, client and store.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/client/remote_store.hpp"
#include "net/server/server.hpp"
#include "real/process/loopback_ports.hpp"
#include "tests/support/conformance.hpp"
#include "tests/support/forwarding_store.hpp"

namespace dkv::net {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t shard_id = 200;
// dstore's limits (actors/client/client.hpp), which the suite's limit cases
// and its "100 MiB value (or the limit)" case use.
constexpr store_limits dstore_limits{.max_key_bytes = 64 << 10, .max_value_bytes = 16 << 20};

struct variant {
  std::size_t members = 1;
  std::uint64_t snapshot_entries = 10'000;
  // One Raft tick; the election timeout is 10 of them. 2 ms: the first
  // election (and the one after a restart) is over in tens of milliseconds.
  std::uint64_t rtt_ms = 2;
  std::uint32_t election_rtt_factor = 10;
};

// The servers of one dstore group, all in this process, and their data.
class cluster {
 public:
  explicit cluster(variant v) : variant_(v) {
    char pattern[] = "/tmp/dkv-dconf-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    REQUIRE(made != nullptr);
    dir_ = made;
    peer_ports_ = real::free_ports(v.members);
    std::string text;
    for (std::size_t m = 0; m < v.members; ++m)
      text += (m ? "," : "") + ("node-" + std::to_string(m + 1)) + "=127.0.0.1:" + std::to_string(peer_ports_[m]);
    REQUIRE(parse_members(text, members_).ok());
    REQUIRE(parse_shards(std::to_string(shard_id) + "=dstore", shards_).ok());
    start();
  }
  ~cluster() {
    servers_.clear();  // before their data goes
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  // Starts every member; clients listen on new ports (port 0) each time.
  void start() {
    REQUIRE(servers_.empty());
    for (std::size_t m = 0; m < members_.size(); ++m) {
      server_options o;
      o.shards = shards_;
      o.members = members_;
      o.self = m + 1;
      o.data_dir = (dir_ / ("node-" + std::to_string(m + 1))).string();
      o.snapshot_entries = variant_.snapshot_entries;
      o.rtt_ms = variant_.rtt_ms;
      o.election_rtt_factor = variant_.election_rtt_factor;
      o.heartbeat_rtt_factor = 1;
      o.clients.endpoint = "127.0.0.1:0";
      auto s = std::make_unique<server>(o);
      s->on_fatal([this](std::string why) {
        std::lock_guard<std::mutex> guard(fatal_mutex_);
        fatal_ += why + "\n";
      });
      const error started = s->start();
      INFO("member " << m + 1 << ": " << started.to_string());
      REQUIRE(started.ok());
      servers_.push_back(std::move(s));
    }
  }
  // Destroys every server (its actors, links and files closed; the
  // directory lock released) — a crash as far as unsynced state goes, since
  // nothing is flushed on the way down that was not already promised.
  void stop() { servers_.clear(); }

  std::shared_ptr<remote_client> client() const {
    remote_client_options o;
    for (const auto& s : servers_) o.endpoints.push_back("127.0.0.1:" + std::to_string(s->client_port()));
    // A 16 MiB write through three members of a machine that also runs the
    // sanitizer suite took over the default 10 s twice (CI): the suite
    // checks what is stored, not how fast, so the calls get a minute.
    o.call_timeout = std::chrono::seconds(60);
    return std::make_shared<remote_client>(o);
  }

  std::string fatal() const {
    std::lock_guard<std::mutex> guard(fatal_mutex_);
    return fatal_;
  }

 private:
  variant variant_;
  std::filesystem::path dir_;
  std::vector<std::uint16_t> peer_ports_;
  std::vector<member_spec> members_;
  std::vector<shard_spec> shards_;
  std::vector<std::unique_ptr<server>> servers_;
  mutable std::mutex fatal_mutex_;
  std::string fatal_;
};

// Waits until the group serves: a read that succeeds went through a leader
// that committed an entry of its term (a linearizable read), so writes are
// served too. A read, not a Set as a probe: a probe write would move the
// store's clock and add a key, and the cases start from a fresh store
// (index 0, no keys). Each try itself waits up to the call timeout.
void wait_for_service(istore& store, const cluster& c) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  error last;
  while (std::chrono::steady_clock::now() < deadline) {
    const has_result r = store.Has("~probe");
    if (r.err.ok()) return;
    last = r.err;
  }
  INFO("the dstore group never served; last error: " << last.to_string() << "; fatal: " << c.fatal());
  FAIL("no service within 30 s");
}

// A remote_store that shares ownership of the cluster it talks to.
class served_store final : public test::forwarding_store {
 public:
  explicit served_store(std::shared_ptr<cluster> c)
      : cluster_(std::move(c)),
        client_(cluster_->client()),
        store_(std::make_unique<remote_store>(client_, shard_id, dstore_limits)) {
    wait_for_service(*store_, *cluster_);
  }
  ~served_store() override {
    // A replica that stopped on its own (storage failure) is a failure even
    // if every answer looked right; not checked while a failure unwinds.
    if (cluster_ && std::uncaught_exceptions() == 0) CHECK(cluster_->fatal().empty());
  }

  // Restarts every server on the same data and hands the cluster to a new
  // store; this one's client points at the old, closed client ports.
  std::unique_ptr<served_store> reopen() {
    store_.reset();
    client_.reset();
    std::shared_ptr<cluster> c = std::move(cluster_);
    REQUIRE(c->fatal().empty());
    c->stop();
    c->start();
    return std::make_unique<served_store>(std::move(c));
  }

  // Also valid on a store whose cluster moved on to its reopened successor.
  const store_limits& limits() const override { return dstore_limits; }

 private:
  istore& target() override { return *store_; }

  std::shared_ptr<cluster> cluster_;
  std::shared_ptr<remote_client> client_;
  std::unique_ptr<remote_store> store_;
};

test::store_maker maker_for(variant v) {
  test::store_maker maker;
  maker.make = [v] { return std::make_unique<served_store>(std::make_shared<cluster>(v)); };
  maker.reopen = [](istore& s) -> std::unique_ptr<istore> { return dynamic_cast<served_store&>(s).reopen(); };
  return maker;
}

// The suite's cases named in `names` (only: true) or all but those (false),
// each in its own section as run_conformance does (the cases themselves
// unchanged). A name the suite no longer has fails, so that a renamed case
// is not dropped unseen.
void run_cases(const test::store_maker& maker, const std::set<std::string>& names, bool only) {
  std::size_t found = 0;
  for (const auto& c : test::conformance_cases()) {
    const bool named = names.count(c.name) != 0;
    found += named;
    if (named == only) DYNAMIC_SECTION(c.name) {
        c.run(maker);
      }
  }
  REQUIRE(found == names.size());
}

const std::set<std::string> sixteen_mib_cases = {"empty key, empty value, 1000-byte key, 100 MiB value (or the limit)",
                                                 "each limit at the limit and one over"};

TEST_CASE("remote_store over a one-member dstore shard conforms") { test::run_conformance(maker_for({.members = 1})); }

// A snapshot every 50 applied entries: "save and reopen" restarts from a
// snapshot plus a log tail, and "many expiring keys" crosses dozens of
// snapshots with schedules pending.
TEST_CASE("remote_store over a one-member dstore shard with frequent snapshots conforms") {
  test::run_conformance(maker_for({.members = 1, .snapshot_entries = 50}));
}

// Three servers in one process, each with its own data directory and peer
// port; the client knows all three client endpoints, so requests land on
// followers too and are forwarded. reopen restarts all three.
//
// Left out for time: "many expiring keys" (about 18 s here, against 4 to 9 s
// on one member: 18,000 calls in sequence, each through the leader); it runs
// on one member, across snapshots, above. The two cases that write 16 MiB
// values run in the next test case. A 5 ms tick (a 50 ms election timeout):
// with 2 ms a busy machine (both cores taken by other tests) starved the
// followers past their timeout, and the elections that followed outran a
// call's deadline.
TEST_CASE("remote_store over a three-member dstore shard in one process conforms") {
  std::set<std::string> left_out = sixteen_mib_cases;
  left_out.insert("many expiring keys");
  run_cases(maker_for({.members = 3, .snapshot_entries = 50, .rtt_ms = 5}), left_out, false);
}

// The 16 MiB cases on three members, with dkv serve's own tick (100 ms) and
// twice its election timeout (2 s). Writing one 16 MiB entry holds a node for
// 40 to 60 ms on this machine (more under the sanitizers), far over the 20 ms
// election timeout of the fast timing above: there the followers elect a
// new leader while the old one writes, the entry is lost with its term, and
// the call runs out of time (Timeout). With serve's 1 s it failed twice under
// a fully loaded machine (the sanitizer suite beside it). etcd caps a
// request at 1.5 MiB by default for the same reason.
TEST_CASE("remote_store over a three-member dstore shard with dkv serve's timing stores 16 MiB values") {
  run_cases(maker_for({.members = 3, .snapshot_entries = 50, .rtt_ms = 100, .election_rtt_factor = 20}),
            sixteen_mib_cases, true);
}
}  // namespace
}  // namespace dkv::net
