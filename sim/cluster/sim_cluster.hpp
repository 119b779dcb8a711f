#pragma once
// A dstore cluster in the simulator: raft_node actors on the simulated
// network, each with its own simulated disk and drifting clock, all from one
// seed, and the client actors that talk to them through the same network.
// Nodes are 1..n on the network; clients take addresses from 1001.
//
// A node's status accumulates across its restarts what it applied, the
// terms it led and its repairs (the checks judge every incarnation); the
// rest is its latest.

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "actors/client/client.hpp"
#include "actors/raft/raft_node.hpp"
#include "sim/disk/sim_disk.hpp"
#include "sim/faults/fault.hpp"
#include "sim/simulator/node_clock.hpp"
#include "sim/simulator/simulator.hpp"

namespace dkv::sim {

struct sim_cluster_options {
  std::size_t nodes = 3;
  // Nodes 1..founders found the cluster as its voters; the rest start empty
  // and wait for a membership change to add them. 0: every node founds it.
  std::size_t founders = 0;
  actors::raft_node_config node;
  disk_faults disk;
  // Runs on the actor system's config after dkv's message types are added:
  // where an application that puts its own actors on the cluster's network
  // adds its own type-ID block (docs/embedding.md).
  std::function<void(caf::actor_system_config&)> configure;
};

class sim_cluster final : public fault_target {
 public:
  sim_cluster(std::uint64_t seed, sim_cluster_options options = {});
  // Stops the nodes while their disks still exist (a node that never ran
  // would otherwise open its storage during the simulator's shutdown).
  ~sim_cluster() override;

  simulator& sim() noexcept { return sim_; }
  std::size_t size() const noexcept { return nodes_.size(); }
  const actors::raft_node_status& status(node_id id) const { return nodes_.at(id - 1)->status; }
  bool up(node_id id) const { return nodes_.at(id - 1)->up; }
  sim_disk& disk(node_id id) { return *nodes_.at(id - 1)->disk; }
  // The node's actor while it is up (an operator's requests go to it).
  const caf::actor& actor(node_id id) const { return nodes_.at(id - 1)->actor; }
  node_clock& clock(node_id id);

  // The live leader of the highest term, if any.
  std::optional<node_id> leader() const;
  // The voters and learners of the leader's configuration; every node when
  // none leads (nothing to say otherwise).
  std::vector<node_id> members() const;

  // A client actor on the network at the next free address (from 1001),
  // with its own clock; `config`'s nodes and address are filled in.
  caf::actor add_client(actors::client_config config = {});
  std::vector<node_id> node_ids() const;

  // Called with every Raft message a node sends, as it leaves the node (for
  // faults that strike at a protocol step: a crash right after a vote).
  using raft_watcher = std::function<void(const raft::message&)>;
  void watch_raft(raft_watcher watcher) { raft_watcher_ = std::move(watcher); }

  // Crash: the process is gone (volatile state, timers, mailbox), the disk
  // keeps what it synced (sim_disk's rules). Restart: a new process on it.
  void crash(node_id id) override;
  void restart(node_id id) override;  // also a node that stopped itself (a failed fsync)

  // The rest of fault_target.
  partition& cuts() override { return sim_.network().cuts(); }
  void pause(node_id id) override;
  void resume(node_id id) override;
  void set_clock(node_id id, const node_clock& c) override { clock(id) = c; }
  void damage_disk(node_id id) override { disk(id).damage_random(); }
  void lose_disk(node_id id) override;
  void cut_log(node_id id) override;
  void misconfigure(node_id id) override;
  // Ends a misconfigure() as an operator would: the node is stopped, its
  // disk (another cluster's log) replaced, and it starts again with the
  // cluster's list at its next restart. What it applied alone is forgotten
  // by the checks: it was another cluster's.
  void restore_members(node_id id);
  // Whether the node is (or will start) alone in its member list.
  bool misconfigured(node_id id) const { return nodes_.at(id - 1)->alone; }
  // Whether two nodes were given different member lists (one of them alone).
  bool lists_differ(node_id a, node_id b) const;
  // Sends the request to the leader, if there is one (a membership_command,
  // as an operator would); the configuration in the status shows the rest.
  void change_membership(fault_kind change, node_id id) override;

 private:
  // The node's (or client's) clock as its actors see it; drift and skew set
  // here apply. Every timer armed through it goes into the trace hash.
  struct clock_seam final : actors::local_clock {
    clock_seam(simulator& s, node_id owner) : sim(&s), id(owner) {}
    simulator* sim;
    node_id id;
    node_clock clock;
    std::uint64_t now_ns() const override { return clock.local_now(sim->now_ns()); }
    std::uint64_t scheduler_delay_ns(std::uint64_t local_ns) const override {
      const std::uint64_t delay = clock.true_delay(local_ns);
      sim->trace().timer(sim->now_ns(), id, delay, 0);
      return delay;
    }
  };
  struct node {
    std::unique_ptr<sim_disk> disk;
    std::shared_ptr<clock_seam> clock;
    actors::raft_node_status status;
    caf::actor actor;
    bool up = false;
    bool alone = false;  // given a member list naming only itself (misconfigure)
    std::uint64_t incarnation = 0;
  };
  // Crashes the node, replaces its disk, and starts its observed history anew.
  void replace_machine(node_id id, bool alone);

  void start(node_id id);

  static constexpr node_id first_client = 1001;
  sim_cluster_options options_;
  simulator sim_;
  std::vector<std::unique_ptr<node>> nodes_;
  raft_watcher raft_watcher_;
  std::vector<std::shared_ptr<clock_seam>> client_clocks_;
};

}  // namespace dkv::sim
