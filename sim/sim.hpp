#pragma once
// Building a simulated dkv cluster in a test and driving it: dkv's nodes on
// the simulated network and disks, an application's own actors next to
// them, faults through the fault API, and a recorded history for the
// checker (check/check.hpp). Link dkv::sim_cluster and
// dkv::history_recorder. The guide is docs/embedding.md.
//
//   dkv::sim::sim_cluster_options options;
//   options.configure = [](caf::actor_system_config& cfg) { cfg.add_message_types<caf::id_block::my_app>(); };
//   dkv::sim::sim_cluster cluster{seed, options};           // nodes 1..3
//   dkv::sim::wait_for_leader(cluster, 5'000'000'000);
//   dkv::sim::sim_client client{cluster};                    // client.store(): an IStore
//   auto port = dkv::sim::attach(cluster, 5001, my_actor);    // my_actor on the network
//   dkv::sim::schedule_faults(cluster, {{2'000'000'000, dkv::sim::faults::crash(1)}}, &recorder);
//   cluster.sim().run_until(10'000'000'000);
//
// Everything runs on one thread, in virtual time, from one seed: the same
// seed gives the same run (and cluster.sim().trace().value(), the same trace
// hash) as long as the application's actors keep the determinism rules of
// docs/embedding.md (no wall clock, no random_device, timers through a
// node clock, messages through the simulated network).

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/message.hpp>
#include <caf/uniform_type_info_map.hpp>

#include <cxxabi.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/actors.hpp"
#include "actors/messages.hpp"
#include "actors/seams.hpp"
#include "sim/cluster/sim_client.hpp"
#include "sim/cluster/sim_cluster.hpp"
#include "sim/faults/fault.hpp"
#include "sim/faults/fault_generator.hpp"
#include "sim/faults/fault_schedule.hpp"
#include "check/history/history.hpp"
#include "sim/run/history_recorder.hpp"
#include "sim/network/sim_network.hpp"
#include "sim/run/workload.hpp"
#include "sim/simulator/simulator.hpp"

namespace dkv::sim {

// Network addresses: dkv's nodes are 1..n and its clients 1001 and up
// (sim_cluster); an application's own actors take addresses from here.
inline constexpr node_id first_application_address = 5001;

// Runs the simulation until the cluster has a live leader, at most
// `timeout_ns` of virtual time from now.
inline std::optional<node_id> wait_for_leader(sim_cluster& cluster, std::uint64_t timeout_ns) {
  simulator& sim = cluster.sim();
  sim.run_until([&cluster] { return cluster.leader().has_value(); }, sim.now_ns() + timeout_ns);
  return cluster.leader();
}

// An application actor's place on the simulated network. What the actor
// sends through it (a transport, actors/seams.hpp) is round-tripped through
// CAF's serializer — so its types must be in the system's type-ID blocks
// (sim_cluster_options::configure) —, delayed, dropped, duplicated and cut
// by partitions like dkv's own traffic. What anyone routes to its address
// reaches the actor as a one-way message with no sender: put the reply
// address in the message, as dkv's own messages do.
//
// A message of a type the system does not know would be lost on the wire
// (it arrives nowhere: sim_network counts it unroutable); send() throws
// embed_error instead, naming the type. Thrown inside an actor's handler,
// CAF reports it and stops that actor.
class network_port final : public actors::transport {
 public:
  network_port(caf::actor_system& system, sim_network& network, node_id address)
      : system_(&system), network_(&network), address_(address) {}
  void send(actors::net_address to, const caf::message& message) override {
    const caf::uniform_type_info_map& types = system_->types();
    for (std::size_t i = 0; i < message.size(); ++i)
      if (const caf::rtti_pair rtti = message.cvals()->type(i); types.portable_name(rtti) == types.default_type_name())
        throw actors::embed_error("dkv: a message of unregistered type " + type_name(rtti.second) +
                                  " sent from address " + std::to_string(address_) +
                                  ": add its type-ID block in sim_cluster_options::configure (docs/embedding.md)");
    network_->route(address_, static_cast<node_id>(to), message);
  }
  node_id address() const noexcept { return address_; }

 private:
  static std::string type_name(const std::type_info* type) {
    if (!type) return "?";
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name{abi::__cxa_demangle(type->name(), nullptr, nullptr, &status),
                                                std::free};
    return status == 0 && name ? name.get() : type->name();
  }

  caf::actor_system* system_;
  sim_network* network_;
  node_id address_;
};

// Puts `actor` on the cluster's network at `address` (not a node's or a
// client's: see first_application_address) and returns its port. Attaching
// another actor at the same address replaces it (a restarted process).
inline std::shared_ptr<network_port> attach(sim_cluster& cluster, node_id address, caf::actor actor) {
  if (address >= 1 && address <= cluster.size())
    throw actors::embed_error("dkv: address " + std::to_string(address) + " is one of the cluster's nodes");
  cluster.sim().network().attach(address, std::move(actor));
  return std::make_shared<network_port>(cluster.sim().system(), cluster.sim().network(), address);
}

// Faults by name, for apply(fault, cluster, nodes) and schedule_faults().
namespace faults {
inline fault make(fault_kind kind, node_id n = 0, node_id other = 0) {
  fault f;
  f.kind = kind;
  f.node = n;
  f.other = other;
  return f;
}
inline fault split(std::vector<std::vector<node_id>> groups) {
  fault f = make(fault_kind::split);
  f.groups = std::move(groups);
  return f;
}
inline fault isolate(node_id n) { return make(fault_kind::isolate, n); }
inline fault one_way(node_id from, node_id to) { return make(fault_kind::one_way, from, to); }
inline fault heal() { return make(fault_kind::heal); }
inline fault crash(node_id n) { return make(fault_kind::crash, n); }
inline fault restart(node_id n) { return make(fault_kind::restart, n); }
inline fault pause(node_id n) { return make(fault_kind::pause, n); }
inline fault resume(node_id n) { return make(fault_kind::resume, n); }
inline fault clock_jump(node_id n, node_clock c) {
  fault f = make(fault_kind::clock, n);
  f.clock = c;
  return f;
}
inline fault damage_disk(node_id n) { return make(fault_kind::damage_disk, n); }
inline fault lose_disk(node_id n) { return make(fault_kind::lose_disk, n); }
inline fault cut_log(node_id n) { return make(fault_kind::cut_log, n); }
inline fault alone(node_id n) { return make(fault_kind::alone, n); }
}  // namespace faults

// Puts `schedule` on the cluster's simulated clock: each fault is applied
// when virtual time reaches it, goes into the trace hash and, if `history`
// is given, into the recorded history (the checker's report shades it).
// generate_faults() (fault_generator.hpp) makes a random schedule from a
// seed that ends every fault by its stop time.
inline void schedule_faults(sim_cluster& cluster, const std::vector<timed_fault>& schedule,
                            history_recorder* history = nullptr) {
  const auto nodes = std::make_shared<const std::vector<node_id>>(cluster.node_ids());
  simulator& sim = cluster.sim();
  for (const timed_fault& f : schedule)
    sim.at(f.time_ns, f.what.describe(), [&cluster, nodes, what = f.what, history] {
      apply(what, cluster, *nodes);
      if (history) history->fault(cluster.sim().now_ns(), what);
    });
}

// Records an application's store calls (actors/messages.hpp: store_call,
// store_answer) in a history_recorder as docs/history.md's operations, at the
// simulator's virtual time — what the checker needs to judge them.
//
// docs/history.md's rules: a logical process has at most one call in flight, and
// after an indeterminate outcome (info: Timeout, InternalError) it goes on
// under a new process id, since that call may still take effect at any
// later time. GetDBInfo is not an operation of the model and is not recorded.
class store_call_recorder {
 public:
  static constexpr std::size_t not_recorded = ~std::size_t{0};

  store_call_recorder(simulator& sim, history_recorder& history) : sim_(&sim), history_(&history) {}

  // A process id not used before by this recorder.
  std::uint32_t new_process() noexcept { return next_process_++; }

  // Records the call's invocation by `process`; returns the id to complete.
  std::size_t invoke(std::uint32_t process, const actors::store_call& call) {
    const auto kind = static_cast<operation_kind>(call.op);
    if (kind == operation_kind::info) return not_recorded;  // not an IStore operation
    const std::string_view f = check::history_name(kind);
    operation op;
    op.process = process;
    op.f = f;
    op.key = call.key;
    op.value = call.value;
    op.expire_in = call.expire_in;
    op.delete_in = call.delete_in;
    const std::size_t id = history_->invoke(sim_->now_ns(), std::move(op));
    fs_[id] = f;
    return id;
  }

  // Records the answer; returns the outcome (after info: new_process()).
  outcome complete(std::size_t id, const actors::store_answer& answer) {
    if (id == not_recorded) return outcome_of(answer.code);
    operation asked;
    asked.f = fs_[id];
    const op_result r = result_of(asked, answer);
    fs_.erase(id);
    history_->complete(id, sim_->now_ns(), r);
    return r.result;
  }

 private:
  simulator* sim_;
  history_recorder* history_;
  std::uint32_t next_process_ = 1;
  std::unordered_map<std::size_t, std::string_view> fs_;  // in flight: id -> f
};

}  // namespace dkv::sim
