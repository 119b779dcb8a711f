#pragma once
// A dkv server process (`dkv serve`): its shards, the Raft groups of its
// dstore shards with their data on disk, the TCP links to its peers and the
// protocol server its clients talk to — the same raft_node and client actors
// the simulator runs, with the real seams (peer_network, POSIX files, the
// actor system's clock).
//
// Layout of the data directory: LOCK (held while the server runs, so that
// two servers cannot share it) and one folder per dstore shard,
// shard-<id>/, holding that replica's log and snapshot. lstore shards live
// in memory only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/seams.hpp"
#include "net/peer/cluster_identity.hpp"
#include "net/server/cluster_config.hpp"
#include "net/server/protocol_server.hpp"
#include "store/error.hpp"

namespace dkv::net {

struct server_options {
  std::vector<shard_spec> shards;
  std::vector<member_spec> members;
  std::uint64_t self = 0;     // 1-based, in members
  std::string cluster_token;  // with the members, the cluster's identity: peers with another are refused
  // Members this server dials at another address than `members` lists (a
  // proxy, a tunnel; dkv-sim's real runs put a fault proxy on every link).
  // The list still names the cluster: its identity does not change.
  std::vector<member_spec> peer_via;
  std::string data_dir;
  std::uint64_t snapshot_entries = 10'000;    // applied entries between a replica's snapshots
  bool accept_data_loss = false;              // raft_node_config::accept_data_loss
  std::uint64_t rtt_ms = 10;                  // one Raft tick
  std::uint32_t election_rtt_factor = 10;     // election timeout, in ticks
  std::uint32_t heartbeat_rtt_factor = 1;     // heartbeat interval, in ticks
  std::chrono::milliseconds timeout{10'000};  // a client request's deadline inside the cluster
  protocol_server_options clients;
  unsigned actor_threads = 2;  // CAF's scheduler
  unsigned lock_threads = 4;   // per lockmgr(dstore) shard
  // The replicas' clock; unset, the actor system's (a test sets a wrong one:
  // net/server/adjustable_clock.hpp).
  std::shared_ptr<actors::local_clock> clock;
  // What the server has to say while it runs: its listeners (clients' and
  // peers') out of descriptors, and accepting again; a peer connection
  // refused, by either end (another cluster or version). Also
  // clients.report, if that is unset.
  report_sink report;
};

// Checks what can be checked before anything starts: a dstore shard needs
// members, every member's host resolves and no two share an address, the
// factors make sense, and so on.
error validate(const server_options& options);

// The identity the server's peer links present and require: its members and token.
cluster_identity identity_of(const server_options& options);

class server {
 public:
  explicit server(server_options options);
  ~server();  // stop()

  // Opens the data directory, starts the peer links, spawns the actors and
  // listens for clients. On error nothing keeps running.
  error start();
  // Stops accepting clients, then stops the actors and the links; idempotent.
  void stop();

  // Called (from some thread) if a replica stops on its own while the server
  // runs — its storage could not be opened, read or synced — with the reason.
  void on_fatal(std::function<void(std::string)> callback);

  std::uint16_t client_port() const;  // where clients connect (for port 0)

 private:
  struct running;
  server_options options_;
  std::function<void(std::string)> on_fatal_;
  std::unique_ptr<running> running_;
};

}  // namespace dkv::net
