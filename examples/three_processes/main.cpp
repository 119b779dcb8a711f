// three_processes: one member of a 3-member dkv cluster. Run it three times,
// one process per member, in any order:
//
//   three_processes --member N --members H1:P1,H2:P2,H3:P3 --data-dir DIR
//
// Each process is a CAF application of its own: its own actor system, one
// dkv::net::peer_network (dkv's TCP transport between the members' processes),
// and, in Raft group 1, the two dkv actors that live in member N — raft node N,
// its log in DIR on the POSIX file system, and a client actor. The
// application's work goes through that client: member N writes
// member-N = "hello from N", then reads the three members' keys until all are
// there, and prints them.
//
// The order of starting does not matter: the peer network keeps reconnecting
// to a member that is not up yet (messages for it are dropped meanwhile; Raft
// and the client retry), and Raft elects a leader once two of the three are up.
//
// Exit status: 0 done; 1 bad arguments, an unusable DIR, or gave up (no three
// keys within 20 s); 2 cannot listen on its own address (the port is taken, say).

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "actors/actors.hpp"
#include "net/peer/peer_network.hpp"

namespace {

using namespace std::chrono_literals;
using dkv::actors::store_answer;
namespace calls = dkv::actors::calls;
using steady = std::chrono::steady_clock;

constexpr std::uint64_t group = 1;  // one Raft group; a process may host several, each with its own id
constexpr std::uint64_t member_count = 3;

struct arguments {
  std::uint64_t member = 0;
  std::map<std::uint64_t, dkv::net::peer_endpoint> members;  // 1..3, this member's own included
  std::string data_dir;
};

std::optional<dkv::net::peer_endpoint> parse_endpoint(const std::string& text) {  // "host:port"
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const unsigned long p = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p == 0 || p > 65535) return std::nullopt;
  return dkv::net::peer_endpoint{text.substr(0, colon), static_cast<std::uint16_t>(p)};
}

std::optional<arguments> parse(int argc, char** argv) {
  arguments a;
  if (argc % 2 == 0) return std::nullopt;  // a flag without its value
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--member") {
      a.member = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--data-dir") {
      a.data_dir = value;
    } else if (flag == "--members") {
      std::uint64_t k = 1;
      for (std::size_t start = 0; start <= value.size(); ++k) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        const auto endpoint = parse_endpoint(value.substr(start, comma - start));
        if (!endpoint) return std::nullopt;
        a.members[k] = *endpoint;
        start = comma + 1;
      }
    } else {
      return std::nullopt;
    }
  }
  if (a.member < 1 || a.member > member_count || a.members.size() != member_count || a.data_dir.empty())
    return std::nullopt;
  return a;
}

std::string key_of(std::uint64_t member) { return "member-" + std::to_string(member); }
std::string done_key_of(std::uint64_t member) { return "done-" + std::to_string(member); }

// One store call through the client actor, from this plain thread: a
// scoped_actor's request blocks until the answer. The client answers every
// call — Timeout at the latest, after client_config::call_timeout_ns — so
// the request's own timeout is only a backstop.
store_answer call(caf::scoped_actor& self, const caf::actor& client, const dkv::actors::store_call& c) {
  store_answer answer;
  answer.code = static_cast<std::uint8_t>(dkv::error_code::internal_error);
  self->request(client, caf::timespan{10s}, c)
      .receive([&](store_answer& a) { answer = std::move(a); },
               [&](caf::error& e) { answer.message = "no answer: " + caf::to_string(e); });
  return answer;
}

// Leaving. Two of three members make a quorum, so a member that simply
// exited now could leave a slower one without a majority while it still
// reads. So a finished member says so (done-N) and stays, still voting,
// until every member has said so. If the store stops answering instead,
// the others have gone already (they leave only once all are done, or when
// the store stops answering them): then leave too. Either way this member's
// work is complete; staying is a courtesy to the others, bounded by 10 s.
void leave_politely(caf::scoped_actor& self, const caf::actor& client, std::uint64_t me, const std::string& who) {
  const auto deadline = steady::now() + 10s;
  if (call(self, client, calls::set(done_key_of(me), "yes")).code != 0) {
    std::printf("%s: leaving (could not say it is done)\n", who.c_str());
    return;
  }
  std::set<std::uint64_t> done{me};
  while (done.size() < member_count && steady::now() < deadline) {
    for (std::uint64_t k = 1; k <= member_count; ++k) {
      if (done.count(k)) continue;
      const store_answer a = call(self, client, calls::get(done_key_of(k)));
      if (a.code != 0) {
        std::printf("%s: leaving (the others have gone: %s)\n", who.c_str(), a.message.c_str());
        return;
      }
      if (a.found) done.insert(k);
    }
    if (done.size() < member_count) std::this_thread::sleep_for(50ms);
  }
  std::printf("%s: leaving (%s)\n", who.c_str(),
              done.size() == member_count ? "every member is done" : "tired of waiting");
}

// The application's work: write our key, read all three, print them.
bool greet_and_read(caf::actor_system& system, const caf::actor& client, std::uint64_t me, const std::string& who) {
  caf::scoped_actor self{system};
  const auto deadline = steady::now() + 20s;

  // 1. Write our greeting until a write is acknowledged. Until two members
  //    are up there is no leader and the client answers Timeout. Retrying is
  //    safe: a Timeout means "maybe applied", and the same Set twice leaves
  //    the same state.
  for (;;) {
    const store_answer a = call(self, client, calls::set(key_of(me), "hello from " + std::to_string(me)));
    if (a.code == 0) {
      std::printf("%s: wrote %s at index %llu\n", who.c_str(), key_of(me).c_str(),
                  static_cast<unsigned long long>(a.index));
      break;
    }
    if (steady::now() >= deadline) {
      std::printf("%s: gave up writing %s: %s\n", who.c_str(), key_of(me).c_str(), a.message.c_str());
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }

  // 2. Read the three keys until all are there: each member writes its own
  //    whenever it comes up. A read is linearizable (it goes through the
  //    leader), so once found, a key stays found.
  std::map<std::uint64_t, std::string> read;
  for (;;) {
    for (std::uint64_t k = 1; k <= member_count; ++k) {
      if (read.count(k)) continue;
      const store_answer a = call(self, client, calls::get(key_of(k)));
      if (a.code == 0 && a.found) read[k] = a.value;
    }
    if (read.size() == member_count) break;
    if (steady::now() >= deadline) {
      std::printf("%s: gave up after 20 s with %zu of %llu keys\n", who.c_str(), read.size(),
                  static_cast<unsigned long long>(member_count));
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
  for (const auto& [k, value] : read) std::printf("%s read: %s = %s\n", who.c_str(), key_of(k).c_str(), value.c_str());

  leave_politely(self, client, me, who);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // line by line even into a file: a killed member's log is whole
  const std::optional<arguments> args = parse(argc, argv);
  if (!args) {
    std::fprintf(stderr, "usage: %s --member N --members HOST:PORT,HOST:PORT,HOST:PORT --data-dir DIR  (N in 1..3)\n",
                 argv[0]);
    return 1;
  }
  const std::uint64_t me = args->member;
  const std::string who = "member " + std::to_string(me);

  // The node's files come first: the raft node keeps a plain pointer to
  // them, so they must outlive the actor system (declared before it, they
  // are destroyed after it). open_data_directory creates DIR if missing and
  // probes it; it throws embed_error, saying why, if DIR is unusable.
  std::unique_ptr<dkv::actors::posix_file_system> files;
  try {
    files = dkv::actors::open_data_directory(args->data_dir);
  } catch (const dkv::actors::embed_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }

  // The application's own actor system: dkv's message types (the peer
  // network serializes them with CAF, so every member must register the same
  // blocks — an application with types of its own adds its block after
  // dkv's), two worker threads, and work sharing, which parks idle workers
  // where CAF's default, work stealing, polls (a fifth of a core when idle).
  caf::actor_system_config cfg;
  dkv::actors::add_message_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system system{cfg};

  // One peer network per process, whatever the number of groups: it listens
  // on this member's endpoint and connects to the others, retrying until
  // they are up. Declared after the system, so it also goes before it.
  dkv::net::peer_network_options options;
  options.self = me;
  options.members = args->members;
  dkv::net::peer_network peers{system, options};
  if (dkv::error e = peers.start(); !e.ok()) {
    std::fprintf(stderr, "%s: cannot listen: %s\n", who.c_str(), e.message().c_str());
    return 2;
  }
  std::printf("%s: listening on %s:%u\n", who.c_str(), args->members.at(me).host.c_str(), unsigned{peers.bound_port()});

  // Group 1's actors in this member, each on the group's transport and
  // attached at its address, so that what arrives for it from the other
  // members reaches it. Addresses within a group: raft node k is address k
  // and lives in member k; member k's client actor is client_address(k).
  // The clock is the actor system's own (the steady clock here); the seeds
  // come from the OS — a real node's election timeouts need not repeat.
  std::shared_ptr<dkv::actors::transport> network = peers.transport(group);
  auto clock = std::make_shared<dkv::actors::actor_system_clock>(system);
  std::random_device entropy;
  auto seed = [&entropy] { return (std::uint64_t{entropy()} << 32) | entropy(); };

  dkv::actors::raft_node_config node_config;
  node_config.raft.id = me;
  node_config.raft.initial_voters = {1, 2, 3};
  const caf::actor node = dkv::actors::spawn_raft_node(system, node_config, {files.get(), network, clock}, seed());
  peers.attach(group, me, node);

  dkv::actors::client_config client_config;
  client_config.nodes = {1, 2, 3};
  client_config.self = dkv::net::client_address(me);
  client_config.call_timeout_ns = 1'000'000'000;  // a call answers within 1 s, so the loops above decide again soon
  const caf::actor client = dkv::actors::spawn_client(system, client_config, network, clock, seed());
  peers.attach(group, client_config.self, client);

  const bool ok = greet_and_read(system, client, me, who);

  // Shutting down, in this order: dkv's actors are told to exit; the peer
  // network stops (it joins its I/O thread and forgets the attached actors);
  // then, leaving main, the actor system goes — its destructor waits for
  // every actor to finish — and last the files.
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  peers.stop();
  std::printf("%s %s\n", ok ? "PASS: three_processes" : "FAIL: three_processes", who.c_str());
  return ok ? 0 : 1;
}
