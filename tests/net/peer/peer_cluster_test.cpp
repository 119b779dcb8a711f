// The real thing: three raft_nodes of one group in a threaded actor system,
// each behind its own peer_network (members 1..3) on loopback, their logs in
// temporary directories, and member 1's client actor answering store calls.

#include <catch2/catch.hpp>

#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "actors/actors.hpp"
#include "net/peer/peer_network.hpp"
#include "tests/net/peer/peer_test_support.hpp"

using namespace dkv;
using namespace dkv::net;
using namespace std::chrono_literals;
using actors::store_answer;

namespace {

constexpr std::uint64_t group = 1;

// Temporary data directories, removed afterwards.
struct data_directories {
  data_directories() {
    root = std::filesystem::temp_directory_path() / ("dkv-peer-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
  }
  ~data_directories() { std::filesystem::remove_all(root); }
  std::string of(std::uint64_t member) const { return (root / ("node-" + std::to_string(member))).string(); }
  std::filesystem::path root;
};

// A store call through the client, answered within `timeout` or failed.
store_answer call(caf::scoped_actor& self, const caf::actor& client, const actors::store_call& c) {
  store_answer answer;
  answer.code = static_cast<std::uint8_t>(error_code::internal_error);
  self->request(client, caf::timespan{15s}, c)
      .receive([&](store_answer& a) { answer = std::move(a); },
               [&](caf::error& e) { answer.message = "request failed: " + caf::to_string(e); });
  return answer;
}

}  // namespace

TEST_CASE("three raft nodes over peer_network elect a leader and serve a client", "[net][peer][cluster]") {
  data_directories dirs;
  // Declared before the system: the nodes keep plain pointers to their files.
  std::vector<std::unique_ptr<actors::posix_file_system>> files;
  for (std::uint64_t k = 1; k <= 3; ++k) files.push_back(actors::open_data_directory(dirs.of(k)));

  testing::threaded_system sys;
  caf::actor_system& system = *sys.system;
  const std::vector<std::uint16_t> ports = real::free_ports(3);
  std::vector<std::unique_ptr<peer_network>> networks;
  std::vector<caf::actor> spawned;
  auto clock = std::make_shared<actors::actor_system_clock>(system);
  for (std::uint64_t k = 1; k <= 3; ++k) {
    networks.push_back(std::make_unique<peer_network>(system, testing::options_for(k, ports)));
    REQUIRE(networks.back()->start().ok());
  }
  for (std::uint64_t k = 1; k <= 3; ++k) {
    actors::raft_node_config config;
    config.raft.id = k;
    config.raft.initial_voters = {1, 2, 3};
    config.tick_ns = 10'000'000;
    const actors::node_seams seams{files[k - 1].get(), networks[k - 1]->transport(group), clock};
    const caf::actor node = actors::spawn_raft_node(system, config, seams, 100 + k);
    networks[k - 1]->attach(group, k, node);
    spawned.push_back(node);
  }
  actors::client_config client_config;
  client_config.nodes = {1, 2, 3};
  client_config.self = client_address(1);
  const caf::actor client = actors::spawn_client(system, client_config, networks[0]->transport(group), clock, 7);
  networks[0]->attach(group, client_address(1), client);
  spawned.push_back(client);

  {
    caf::scoped_actor self{system};
    const store_answer set = call(self, client, actors::calls::set("greeting", "hello over tcp"));
    INFO(set.message);
    CHECK(set.code == 0);
    CHECK(set.index > 0);
    const store_answer got = call(self, client, actors::calls::get("greeting"));
    INFO(got.message);
    CHECK(got.code == 0);
    CHECK(got.found);
    CHECK(got.value == "hello over tcp");
  }
  std::uint64_t received = 0;
  for (const auto& n : networks) received += n->stats().received;
  CHECK(received > 0);

  // Shutdown: the actors exit, the networks stop (forgetting them), and
  // only then does the system go (its destructor waits for the actors).
  for (const caf::actor& a : spawned) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& n : networks) n->stop();
  spawned.clear();
}
