#include "sim/cluster/sim_cluster.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <algorithm>

#include "actors/actors.hpp"
#include "actors/messages.hpp"
#include "store/raft/message_codec.hpp"

namespace dkv::sim {

namespace {

// Streams of the master seed (simulator::derive): one per part of a node.
constexpr std::uint64_t disk_stream = 0x6469736b;        // "disk"
constexpr std::uint64_t raft_stream = 0x72616674;        // "raft"
constexpr std::uint64_t client_stream = 0x636c69656e74;  // "client"

class sim_transport final : public actors::transport {
 public:
  sim_transport(sim_network& network, node_id self, const sim_cluster* cluster = nullptr,
                const sim_cluster::raft_watcher* watcher = nullptr)
      : network_(network), self_(self), cluster_(cluster), watcher_(watcher) {}
  void send(actors::net_address to, const caf::message& message) override {
    if (watcher_ && *watcher_ && message.match_element<actors::raft_packet>(0)) {
      raft::message m;
      if (raft::decode_message(message.get_as<actors::raft_packet>(0).bytes, m)) (*watcher_)(m);
    }
    const auto peer = static_cast<node_id>(to);
    if (cluster_ && cluster_->lists_differ(self_, peer)) {
      // As the peer transport refuses another cluster's hello (net/peer),
      // nothing crosses; a receiver that the sender's list names hears why.
      if (!cluster_->misconfigured(self_))
        network_.route(self_, peer,
                       caf::make_message(actors::claimed_by_other_cluster{
                           "member " + std::to_string(self_) + ", whose list names it and others"}));
      return;
    }
    network_.route(self_, peer, message);
  }

 private:
  sim_network& network_;
  node_id self_;
  const sim_cluster* cluster_;                // to compare member lists, if given
  const sim_cluster::raft_watcher* watcher_;  // the cluster's, if it watches
};

}  // namespace

node_clock& sim_cluster::clock(node_id id) { return nodes_.at(id - 1)->clock->clock; }

sim_cluster::sim_cluster(std::uint64_t seed, sim_cluster_options options)
    : options_(std::move(options)), sim_(seed, [this](caf::actor_system_config& cfg) {
        actors::register_message_types(cfg);
        if (options_.configure) options_.configure(cfg);
      }) {
  if (options_.nodes == 0) throw actors::embed_error("dkv: sim_cluster_options: nodes (0) must be at least 1");
  if (options_.founders > options_.nodes)
    throw actors::embed_error("dkv: sim_cluster_options: founders (" + std::to_string(options_.founders) +
                              ") must not exceed nodes (" + std::to_string(options_.nodes) + ")");
  if (options_.founders == 0) options_.founders = options_.nodes;
  options_.node.raft.initial_voters.clear();
  for (node_id id = 1; id <= options_.founders; ++id) options_.node.raft.initial_voters.push_back(id);
  actors::raft_node_config first = options_.node;
  first.raft.id = 1;
  if (error e = actors::validate(first); !e.ok())
    throw actors::embed_error("dkv: sim_cluster_options: node." + e.message());
  for (node_id id = 1; id <= options_.nodes; ++id) {
    auto n = std::make_unique<node>();
    n->disk = std::make_unique<sim_disk>(sim_.derive(disk_stream * 1000 + id), options_.disk);
    n->disk->complete_syncs_with([this, id](std::uint64_t delay_ns, std::function<void()> action) {
      sim_.at(sim_.now_ns() + delay_ns, "node " + std::to_string(id) + " log synced", std::move(action));
    });
    n->disk->use_clock([this] { return sim_.now_ns(); });
    n->clock = std::make_shared<clock_seam>(sim_, id);
    nodes_.push_back(std::move(n));
  }
  for (node_id id = 1; id <= options_.nodes; ++id) start(id);
}

sim_cluster::~sim_cluster() {
  for (node_id id = 1; id <= nodes_.size(); ++id) {
    node& n = *nodes_[id - 1];
    if (!n.up) continue;
    sim_.resume(n.actor);
    caf::anon_send_exit(n.actor, caf::exit_reason::kill);
  }
  // The nodes take their exits (a node that never ran starts first): every
  // job runs, as in the simulator's shutdown; no time passes, no scheduled
  // action runs.
  dynamic_cast<caf::scheduler::test_coordinator&>(sim_.system().scheduler()).run();
}

void sim_cluster::start(node_id id) {
  node& n = *nodes_.at(id - 1);
  actors::raft_node_config config = options_.node;
  config.raft.id = id;
  if (id > options_.founders) config.raft.initial_voters.clear();  // it learns its membership from a leader
  if (n.alone) config.raft.initial_voters = {id};
  actors::raft_node_status before = std::move(n.status);
  n.status = {};
  n.status.applied_log = std::move(before.applied_log);
  n.status.applied_writes = std::move(before.applied_writes);
  n.status.led_terms = std::move(before.led_terms);
  n.status.repairs = before.repairs;
  const std::uint64_t seed = sim_.derive(raft_stream * 1000 + id * 100 + n.incarnation).next();
  n.actor = sim_.spawn<actors::raft_node>(config, &n.disk->files(),
                                          std::make_shared<sim_transport>(sim_.network(), id, this, &raft_watcher_), n.clock,
                                          seed, &n.status);
  sim_.network().attach(id, n.actor);
  n.up = true;
}

void sim_cluster::crash(node_id id) {
  node& n = *nodes_.at(id - 1);
  if (!n.up) return;
  sim_.network().detach(id);
  sim_.resume(n.actor);  // a paused process can crash too; forget it was paused
  caf::anon_send_exit(n.actor, caf::exit_reason::kill);
  n.actor = nullptr;
  n.disk->crash();
  n.up = false;
  ++n.incarnation;
}

void sim_cluster::lose_disk(node_id id) {
  crash(id);
  disk(id).lose_everything();
}

void sim_cluster::cut_log(node_id id) {
  crash(id);
  disk(id).cut_newest("wal-", ".log");  // a WAL segment (store/storage/wal.hpp)
}

void sim_cluster::replace_machine(node_id id, bool alone) {
  lose_disk(id);
  node& n = *nodes_.at(id - 1);
  n.alone = alone;
  n.status = {};
}

void sim_cluster::misconfigure(node_id id) { replace_machine(id, true); }

bool sim_cluster::lists_differ(node_id a, node_id b) const {
  if (a == b || a < 1 || b < 1 || a > nodes_.size() || b > nodes_.size()) return false;  // a client is no member
  return nodes_[a - 1]->alone || nodes_[b - 1]->alone;
}

void sim_cluster::restore_members(node_id id) { replace_machine(id, false); }

void sim_cluster::restart(node_id id) {
  node& n = *nodes_.at(id - 1);
  if (n.up && n.status.stopped) crash(id);
  if (!n.up) start(id);
}

void sim_cluster::pause(node_id id) {
  if (nodes_.at(id - 1)->up) sim_.pause(nodes_.at(id - 1)->actor);
}

void sim_cluster::resume(node_id id) {
  if (nodes_.at(id - 1)->up) sim_.resume(nodes_.at(id - 1)->actor);
}

void sim_cluster::change_membership(fault_kind change, node_id id) {
  const std::optional<node_id> to = leader();
  if (!to) return;
  actors::membership_command command;
  command.node = id;
  command.change =
      static_cast<std::uint8_t>(change == fault_kind::add_server    ? actors::membership_change::add_server
                                : change == fault_kind::add_learner ? actors::membership_change::add_learner
                                                                    : actors::membership_change::remove);
  caf::anon_send(nodes_.at(*to - 1)->actor, command);
}

std::vector<node_id> sim_cluster::members() const {
  const std::optional<node_id> at = leader();
  if (!at) return node_ids();
  const actors::raft_node_status& s = status(*at);
  std::vector<node_id> ids;
  for (const auto* list : {&s.config.voters, &s.config.learners})
    for (raft::node_id id : *list) ids.push_back(static_cast<node_id>(id));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<node_id> sim_cluster::node_ids() const {
  std::vector<node_id> ids;
  for (node_id id = 1; id <= nodes_.size(); ++id) ids.push_back(id);
  return ids;
}

caf::actor sim_cluster::add_client(actors::client_config config) {
  const node_id address = first_client + static_cast<node_id>(client_clocks_.size());
  config.self = address;
  config.nodes.clear();
  for (node_id id : node_ids()) config.nodes.push_back(id);
  if (error e = actors::validate(config); !e.ok()) throw actors::embed_error("dkv: client_config: " + e.message());
  client_clocks_.push_back(std::make_shared<clock_seam>(sim_, address));
  const std::uint64_t seed = sim_.derive(client_stream * 100000 + address).next();
  caf::actor actor = sim_.spawn<actors::client>(config, std::make_shared<sim_transport>(sim_.network(), address),
                                                client_clocks_.back(), seed);
  sim_.network().attach(address, actor);
  return actor;
}

std::optional<node_id> sim_cluster::leader() const {
  std::optional<node_id> best;
  for (node_id id = 1; id <= nodes_.size(); ++id) {
    const node& n = *nodes_[id - 1];
    if (n.up && !n.status.stopped && n.status.role == raft::role::leader &&
        (!best || n.status.term > nodes_[*best - 1]->status.term))
      best = id;
  }
  return best;
}

}  // namespace dkv::sim
