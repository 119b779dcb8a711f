#include "net/server/server.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>

#include "actors/actors.hpp"
#include "actors/messages.hpp"
#include "net/peer/peer_network.hpp"
#include "net/server/cluster_record.hpp"
#include "net/server/dstore_shard.hpp"
#include "net/server/lstore_shard.hpp"
#include "store/lstore.hpp"

namespace dkv::net {

namespace {

error bad(std::string what) { return invalid_operation(std::move(what)); }

// Where a member's dstore_shard gateway hears its replica's read outcomes
// (the peer network places an address by its low 32 bits).
constexpr actors::net_address gateway_address(std::uint64_t member) { return (std::uint64_t{2} << 32) + member; }

std::string system_error_text(int code) { return std::strerror(code); }

// A shard whose replica has known no leader for this many election timeouts
// answers its clients Unavailable at once, saying why, instead of making
// them wait out --timeout. An election ends within two of them (a
// follower's timeout is drawn from one to two); the third leaves room for a
// split vote.
constexpr std::uint32_t elections_before_unavailable = 3;

// The server's hold on its data directory: an exclusive flock(2) on LOCK,
// released by the kernel even when the process is killed.
class directory_lock {
 public:
  error acquire(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return internal_error("data directory '" + dir + "': " + ec.message());
    const std::string path = dir + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return internal_error("data directory '" + dir + "': cannot open LOCK: " + system_error_text(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return internal_error("data directory '" + dir + "' is in use by another dkv server (LOCK is held)");
    return {};
  }
  ~directory_lock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

}  // namespace

error validate(const server_options& o) {
  if (o.shards.empty()) return bad("no shards (--shards)");
  bool replicated = false;
  for (const shard_spec& s : o.shards) replicated |= s.kind == shard_kind::dstore;
  if (replicated) {
    if (o.members.empty()) return bad("dstore shards need --cluster-members");
    if (o.self == 0 || o.self > o.members.size()) return bad("--replica-id must name one of --cluster-members");
    if (o.data_dir.empty()) return bad("dstore shards need --data-dir");
    if (error e = check_member_addresses(o.members); !e.ok()) return bad("--cluster-members: " + e.message());
    for (const member_spec& via : o.peer_via) {
      const auto listed = std::find_if(o.members.begin(), o.members.end(),
                                       [&](const member_spec& m) { return m.name == via.name; });
      if (listed == o.members.end()) return bad("--peer-via: '" + via.name + "' is not one of --cluster-members");
      if (listed == o.members.begin() + static_cast<std::ptrdiff_t>(o.self - 1))
        return bad("--peer-via: '" + via.name + "' is this server: it listens where --cluster-members says");
    }
  }
  if (o.rtt_ms == 0) return bad("--rtt-millisecond must be at least 1");
  if (o.heartbeat_rtt_factor == 0) return bad("--heartbeat-rtt-factor must be at least 1");
  if (o.election_rtt_factor <= o.heartbeat_rtt_factor)
    return bad("--election-rtt-factor (" + std::to_string(o.election_rtt_factor) +
               ") must be greater than --heartbeat-rtt-factor (" + std::to_string(o.heartbeat_rtt_factor) + ")");
  if (o.snapshot_entries == 0) return bad("--snapshot-entries must be at least 1");
  if (o.timeout.count() <= 0) return bad("--timeout must be positive");
  return {};
}

cluster_identity identity_of(const server_options& o) {
  return make_cluster_identity(members_text(o.members), o.cluster_token);
}

// Passes the peer network's word that another cluster lists this server
// (on its I/O thread) to every replica, once they are spawned: the peers
// start first. One said before then is said again at the next refusal.
class replica_relay {
 public:
  void claimed(const std::string& detail) {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const caf::actor& replica : replicas_) caf::anon_send(replica, actors::claimed_by_other_cluster{detail});
  }
  // The replicas to tell; none again at shutdown, or its handles would keep
  // them alive past the actor system.
  void relay_to(std::vector<caf::actor> replicas) {
    std::lock_guard<std::mutex> guard(mutex_);
    replicas_ = std::move(replicas);
  }

 private:
  std::mutex mutex_;
  std::vector<caf::actor> replicas_;
};

// Everything a started server holds, in the order it must be torn down
// (reverse of declaration): the protocol server first, the actor system last
// but after what its actors point to.
struct server::running {
  directory_lock lock;
  std::deque<std::unique_ptr<actors::posix_file_system>> files;  // the replicas keep plain pointers
  std::deque<actors::raft_node_status> statuses;                 // read only after a replica is down
  std::atomic<bool> stopping{false};
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<peer_network> peers;
  std::vector<caf::actor> actors;  // replicas, clients, the watchdog
  std::shared_ptr<replica_relay> relay = std::make_shared<replica_relay>();
  std::map<std::uint64_t, std::shared_ptr<shard>> shards;
  std::unique_ptr<protocol_server> clients;

  void shut_down() {
    stopping = true;
    if (clients) clients->stop();
    clients.reset();
    shards.clear();
    for (const caf::actor& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors.clear();
    relay->relay_to({});
    if (peers) peers->stop();
    peers.reset();
    system.reset();  // waits for the actors to finish
  }
  ~running() { shut_down(); }
};

server::server(server_options options) : options_(std::move(options)) {}

server::~server() { stop(); }

void server::on_fatal(std::function<void(std::string)> callback) { on_fatal_ = std::move(callback); }

std::uint16_t server::client_port() const {
  return running_ && running_->clients ? running_->clients->bound_port() : 0;
}

error server::start() {
  if (running_) return bad("the server is running already");
  if (error e = validate(options_); !e.ok()) return e;
  auto r = std::make_unique<running>();
  const bool replicated = std::any_of(options_.shards.begin(), options_.shards.end(),
                                      [](const shard_spec& s) { return s.kind == shard_kind::dstore; });
  const cluster_identity identity = identity_of(options_);
  if (replicated) {
    if (error e = r->lock.acquire(options_.data_dir); !e.ok()) return e;
    bool adopted = false;
    if (error e = check_cluster_record(options_.data_dir, identity, adopted); !e.ok()) return e;
    if (adopted && options_.report)
      options_.report(report_level::info, "the data directory " + options_.data_dir + " belongs to cluster " +
                                              id_text(identity.id) + " from now on (" + cluster_record_name + ")");
  }

  actors::add_message_types(r->config);
  r->config.set("scheduler.max-threads", static_cast<std::size_t>(std::max(1u, options_.actor_threads)));
  // Work sharing parks idle workers on a condition variable; CAF's default
  // work stealing polls, which costs an idle server a fifth of a core.
  r->config.set("scheduler.policy", caf::atom("sharing"));
  r->config.set("logger.verbosity", caf::atom("quiet"));
  r->system = std::make_unique<caf::actor_system>(r->config);
  caf::actor_system& system = *r->system;
  std::random_device entropy;  // election timeouts need not repeat between runs of a real server

  const std::shared_ptr<replica_relay> relay = r->relay;
  if (replicated) {
    peer_network_options peer;
    peer.self = options_.self;
    peer.report = options_.report;
    peer.identity = identity;
    peer.claimed_by_other_cluster = [relay](const std::string& detail) { relay->claimed(detail); };
    for (std::size_t i = 0; i < options_.members.size(); ++i)
      peer.members[i + 1] = {options_.members[i].host, options_.members[i].port};
    for (const member_spec& via : options_.peer_via)
      for (std::size_t i = 0; i < options_.members.size(); ++i)
        if (options_.members[i].name == via.name) peer.members[i + 1] = {via.host, via.port};
    r->peers = std::make_unique<peer_network>(system, peer);
    if (error e = r->peers->start(); !e.ok())
      return internal_error("cannot listen for peers on " + options_.members[options_.self - 1].host + ":" +
                            std::to_string(options_.members[options_.self - 1].port) + ": " + e.message());
  }

  // A replica that stops while the server runs stops the server: it could
  // not open, read or sync its storage, and a node that cannot keep its
  // promises must not answer.
  auto stopping = [raw = r.get()] { return raw->stopping.load(); };
  auto fatal = on_fatal_;
  std::vector<caf::actor> replicas;
  std::vector<actors::raft_node_status*> replica_statuses;
  std::vector<std::uint64_t> replica_shards;
  std::vector<std::weak_ptr<dstore_shard>> served_shards;  // weak: the shards go before the actors

  for (const shard_spec& spec : options_.shards) {
    if (spec.kind == shard_kind::lstore) {
      r->shards[spec.id] = std::make_shared<lstore_shard>(std::make_shared<lstore>(), spec.lock_manager);
      continue;
    }
    actors::raft_node_config node;
    node.raft.id = options_.self;
    for (std::uint64_t m = 1; m <= options_.members.size(); ++m) node.raft.initial_voters.push_back(m);
    node.raft.election_ticks = options_.election_rtt_factor;
    node.raft.heartbeat_ticks = options_.heartbeat_rtt_factor;
    node.tick_ns = options_.rtt_ms * 1'000'000;
    node.snapshot_every = options_.snapshot_entries;
    node.accept_data_loss = options_.accept_data_loss;
    node.unavailable_after_ticks = elections_before_unavailable * options_.election_rtt_factor;
    // A member alone in its list waits until a cluster that lists it has had
    // time to reach it: its peers dial again within their longest backoff.
    node.alone_quiet_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(peer_network_options{}.reconnect_max).count() +
        std::uint64_t{options_.election_rtt_factor} * options_.rtt_ms * 1'000'000);
    for (const member_spec& m : options_.members) node.names.push_back(m.name);
    if (options_.report)
      node.report = [report = options_.report, shard = spec.id](report_level level, const std::string& text) {
        report(level, "the replica of shard " + std::to_string(shard) + ": " + text);
      };
    const std::string dir = options_.data_dir + "/shard-" + std::to_string(spec.id);
    try {
      r->files.push_back(actors::open_data_directory(dir));
    } catch (const actors::embed_error& e) {
      return internal_error(std::string(e.what()).substr(5));  // without "dkv: "
    }
    std::shared_ptr<actors::local_clock> clock = options_.clock;
    if (!clock) clock = std::make_shared<actors::actor_system_clock>(system);
    std::shared_ptr<actors::transport> network = r->peers->transport(spec.id);
    r->statuses.emplace_back();
    const caf::actor replica =
        actors::spawn_raft_node(system, node, {r->files.back().get(), network, clock},
                                (std::uint64_t{entropy()} << 32) | entropy(), &r->statuses.back());
    r->peers->attach(spec.id, options_.self, replica);

    actors::client_config client;
    for (std::uint64_t m = 1; m <= options_.members.size(); ++m) client.nodes.push_back(m);
    client.self = client_address(options_.self);
    client.home = options_.self;
    client.call_timeout_ns = static_cast<std::uint64_t>(options_.timeout.count()) * 1'000'000;
    // An attempt is sent again only after a second: on a real network a
    // message is rarely lost, and each copy of a large write is logged and
    // replicated in full before the session drops it (the simulator's 300 ms
    // made a 16 MiB write pile up copies on three members).
    client.attempt_timeout_ns = std::min<std::uint64_t>(1'000'000'000, client.call_timeout_ns);
    // A restarted server's client has the address it had: its request ids
    // must not repeat the ones the leader took from it before the restart.
    client.first_request = 1 + (((std::uint64_t{entropy()} << 32) | entropy()) >> 2);
    const caf::actor client_actor =
        actors::spawn_client(system, client, network, clock, (std::uint64_t{entropy()} << 32) | entropy());
    r->peers->attach(spec.id, client.self, client_actor);

    r->actors.push_back(replica);
    r->actors.push_back(client_actor);
    replicas.push_back(replica);
    replica_statuses.push_back(&r->statuses.back());
    replica_shards.push_back(spec.id);
    dstore_shard::options shard;
    shard.id = spec.id;
    shard.client = client_actor;
    shard.replica_actor = replica;
    shard.limits = client.limits;
    shard.lock_threads = spec.lock_manager ? options_.lock_threads : 0;
    shard.network = network;
    shard.replica = options_.self;
    shard.gateway_address = gateway_address(options_.self);
    for (const member_spec& m : options_.members) shard.member_names.push_back(m.name);
    shard.timeout = options_.timeout;
    auto served = std::make_shared<dstore_shard>(system, shard);
    r->peers->attach(spec.id, shard.gateway_address, served->gateway());
    r->shards[spec.id] = served;
    served_shards.push_back(served);
  }

  relay->relay_to(replicas);
  if (!replicas.empty()) {
    // The replicas travel as a spawn argument: see dstore_shard's gateway.
    r->actors.push_back(system.spawn(
        [=](caf::event_based_actor* self, std::vector<caf::actor> replicas) -> caf::behavior {
          for (const caf::actor& replica : replicas) self->monitor(replica);
          self->set_down_handler([=](caf::down_msg& down) {
            if (stopping()) return;
            for (std::size_t i = 0; i < replicas.size(); ++i) {
              if (replicas[i].address() != down.source) continue;
              const std::string why = replica_statuses[i]->stop_reason.empty() ? caf::to_string(down.reason)
                                                                               : replica_statuses[i]->stop_reason;
              // Its clients hear why until the server is down, instead of waiting for it.
              if (const auto shard = served_shards[i].lock()) shard->replica_stopped(why);
              if (fatal) fatal("the replica of shard " + std::to_string(replica_shards[i]) + " stopped: " + why);
            }
          });
          return {[](std::uint64_t) {}};  // nothing to do but watch
        },
        replicas));
  }

  protocol_server_options clients = options_.clients;
  if (!clients.report) clients.report = options_.report;
  r->clients = std::make_unique<protocol_server>(std::move(clients), r->shards);
  if (error e = r->clients->start(); !e.ok()) return e;
  running_ = std::move(r);
  return {};
}

void server::stop() { running_.reset(); }

}  // namespace dkv::net
