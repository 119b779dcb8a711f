#pragma once
// A shard served by a dstore Raft group: each store request becomes a
// store_call to this member's client actor for the group (actors/client),
// which finds the leader, retries, and keeps writes exactly-once through its
// session; its answer travels back to the connection that asked.
//
// The protocol server's threads are not actors, so the hand-over goes
// through a gateway actor: a request is parked under a token with the
// reply to send, the gateway asks the client actor, and the answer takes
// the reply out again. Lock operations take two or three store round trips
// in sequence (store/lock_manager); they run, blocking, on a few threads of
// their own, never on the protocol server's.
//
// A db info request is a linearizable read through this member's own
// replica, answered with the store's figures plus who leads the group
// (metadata raft_leader and raft_member, by member name): the replica's
// read outcome names the leader, which the client actor's answer does not.
//
// A status request (ext) asks the replica itself how it is — role, term,
// leader, commit, repairing, why it refuses clients — with no leader
// needed, and is answered as JSON. Timeout and Unavailable answers name
// the shard ("shard 200: no leader known for …"). Once the replica has
// stopped (replica_stopped), requests are answered with its reason while
// the server stops.

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/seams.hpp"
#include "net/server/shard.hpp"
#include "store/limits.hpp"

namespace dkv::net {

class dstore_shard final : public shard {
 public:
  struct options {
    std::uint64_t id = 0;      // the shard's, for what it says
    caf::actor client;         // the client actor for this shard's group
    caf::actor replica_actor;  // this member's replica, for status requests
    store_limits limits;
    unsigned lock_threads = 0;  // lock operations waiting for the store at once (0: none served)
    // For db info: the group's transport, this member's replica and the
    // address the replica answers the gateway at (attach gateway() there).
    std::shared_ptr<actors::transport> network;
    actors::net_address replica = 0;
    actors::net_address gateway_address = 0;
    std::vector<std::string> member_names;  // by member number - 1
    std::chrono::milliseconds timeout{5000};
  };
  dstore_shard(caf::actor_system& system, options o);
  ~dstore_shard() override;

  void handle(message request, std::function<void(message)> reply) override;

  // The actor the replica's read outcomes must reach (at gateway_address).
  const caf::actor& gateway() const noexcept { return gateway_; }

  // This member's replica stopped (its storage failed): the requests in
  // flight are answered now, and every new one at once, saying why (a
  // write in flight with Timeout: it may have been applied; else
  // Unavailable).
  void replica_stopped(std::string why);

 private:
  struct parked_replies;
  void run_locks();

  caf::actor_system& system_;
  options options_;
  std::shared_ptr<parked_replies> parked_;
  caf::actor gateway_;
  std::mutex stopped_mutex_;
  std::string stopped_;  // why the replica stopped, once it has
  std::atomic<bool> replica_stopped_{false};  // stopped_ is set: read without the lock on every request

  std::mutex lock_mutex_;
  std::condition_variable lock_ready_;
  std::deque<std::function<void()>> lock_jobs_;
  bool stopping_ = false;
  std::vector<std::thread> lock_threads_;
};

}  // namespace dkv::net
