#pragma once
// A client of a simulated cluster as a test or workload sees it: a client
// actor on the simulated network, and a caller actor in front of it that
// turns answers into callbacks. submit() is asynchronous (the callback runs
// inside the simulation when the answer arrives); call() blocks by running
// the simulation until then — what the dstore facade needs.

#include <caf/actor.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>

#include "actors/client/dstore.hpp"
#include "sim/cluster/sim_cluster.hpp"

namespace dkv::sim {

class sim_client {
 public:
  using callback = std::function<void(const actors::store_answer&)>;

  explicit sim_client(sim_cluster& cluster, actors::client_config config = {});
  // Drops the callbacks still waiting: an answer that comes once the client
  // is gone (at the simulation's teardown, after a run that a failed
  // assertion stopped mid-call) must not reach what they point into.
  ~sim_client();

  // Returns the call's tag, for forget().
  std::uint64_t submit(actors::store_call call, callback done);
  // Drops a call's callback (its answer, if it ever comes, is ignored).
  void forget(std::uint64_t tag);
  // Runs the simulation until the answer (the client's own deadline bounds it).
  actors::store_answer call(actors::store_call call);
  // An IStore over this client (docs/spec.md's dstore), blocking as call() does.
  std::unique_ptr<actors::dstore> store();

  const caf::actor& actor() const noexcept;

  struct caller_state;

 private:
  sim_cluster& cluster_;
  actors::client_config config_;
  std::shared_ptr<caller_state> state_;
  caf::actor caller_;
  std::uint64_t next_tag_ = 1;
};

}  // namespace dkv::sim
