#pragma once
// The TCP transport between dkv server processes: the real world's
// counterpart of sim/network. A process is one member of a cluster (members
// numbered 1..N); it hosts Raft groups ("shards", by a u64 group id), and in
// each group the Raft node with raft id k lives in member k, next to that
// member's client actor at client_address(k). So an address names its member
// (member_of), and a (group, address) pair names one actor in the cluster.
//
// transport(group) is the actors::transport seam its actors send through:
// from any thread, never blocking, lossy — a message for a member that is
// down, or whose queue is full, is dropped and counted; Raft and the client
// retry. Local addresses go straight to their actor; the rest are serialized
// in the sender's thread (CAF's binary_serializer, as in the simulator) and
// written by one I/O thread, whatever is queued for a peer in one write.
// The wire format is in net/peer/wire.hpp.
//
// Every member is given the cluster's identity (cluster_identity.hpp); a
// connection from a process with another identity, or one that speaks
// another wire version, is refused in both directions: the receiver closes
// it and counts it, both sides report it (an error, once per source — see
// report_limit.hpp), and nothing it sent reaches an actor.
//
// attach(group, address, actor) says where messages for (group, address)
// go when they arrive. stop() (or the destructor) must run before the actor
// system is destroyed: it forgets the attached actors.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "actors/seams.hpp"
#include "net/peer/accept_backoff.hpp"
#include "net/peer/cluster_identity.hpp"
#include "store/error.hpp"

namespace dkv::net {

struct peer_endpoint {
  std::string host;
  std::uint16_t port = 0;
};

struct peer_network_options {
  std::uint64_t self = 0;                          // this process's member number, 1-based
  std::map<std::uint64_t, peer_endpoint> members;  // every member, self included (self's: where to listen)
  std::size_t max_queued_bytes = 64u << 20;        // per peer; beyond it, sends are dropped (the transport is lossy)
  std::size_t max_frame_bytes = 256u << 20;        // a bigger incoming frame closes that connection
  std::chrono::milliseconds reconnect_min{20}, reconnect_max{1000};  // backoff between connect attempts
  // Peers whose identity differs are refused; the default (id 0, no text)
  // is one cluster too, for programs that have no member names.
  cluster_identity identity;
  // Where the listener says it pauses for want of descriptors, and resumes
  // (warn, info), and where both ends of a refused connection say why (error).
  report_sink report;
  // Called (on the I/O thread) on each refused connection from another
  // cluster whose member list names this process (its own NAME=HOST:PORT
  // entry): with what the refusal says.
  std::function<void(const std::string&)> claimed_by_other_cluster;
};

// Within a group: raft node k is member k; member k's client actor has this address.
constexpr actors::net_address client_address(std::uint64_t member) { return (std::uint64_t{1} << 32) + member; }

// The member an address lives in: its low 32 bits (raft node k is address k).
std::uint64_t member_of(actors::net_address address) noexcept;

namespace detail {
class peer_core;
}

class peer_network {
 public:
  peer_network(caf::actor_system& system, peer_network_options options);
  ~peer_network();  // stop()
  peer_network(const peer_network&) = delete;
  peer_network& operator=(const peer_network&) = delete;

  // Binds and listens on self's endpoint and starts the I/O thread. An error
  // such as "127.0.0.1:7001: Address already in use" if it cannot; calling
  // it again, or after stop(), is an invalid_operation.
  dkv::error start();
  // Closes every connection, joins the I/O thread and forgets the attached
  // actors; what is still queued is lost. Idempotent.
  void stop();

  // The port self listens on, once started (useful when self's port is 0).
  std::uint16_t bound_port() const;

  // The seam for one group's actors; send() is thread-safe. It may outlive
  // the peer_network: after stop() it drops everything.
  std::shared_ptr<actors::transport> transport(std::uint64_t group);
  // Where (group, address) messages arriving here go (replacing any earlier).
  void attach(std::uint64_t group, actors::net_address address, caf::actor target);

  // sent: frames written to a peer's socket, plus local deliveries.
  // received: messages handed to an attached actor from the wire.
  // dropped: lost on our side — no such member or destination, peer down,
  // queue full, or still queued when a connection failed.
  // connects: outgoing connections established.
  // undecodable: incoming frames that did not decode (or too big).
  // rejected: incoming connections closed for a bad hello (another
  // cluster, another wire version, not a member, not a dkv peer).
  struct counters {
    std::uint64_t sent = 0, received = 0, dropped = 0, connects = 0, undecodable = 0, rejected = 0;
  };
  counters stats() const;

 private:
  std::shared_ptr<detail::peer_core> core_;
};

}  // namespace dkv::net
