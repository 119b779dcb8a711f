#include "real/run/cluster_watch.hpp"

#include <nlohmann/json.hpp>

#include "net/client/remote_store.hpp"

namespace dkv::real {

cluster_watch::cluster_watch(run_loop& loop, const real_cluster& cluster, std::uint64_t shard)
    : loop_(loop), cluster_(cluster), shard_(shard) {
  for (node_id id : cluster_.node_ids())
    clients_.push_back(run_loop::client({cluster_.client_endpoint(id)}, 300 * ms_ns));
}

void cluster_watch::start() {
  stopped_ = false;
  poll();
}

void cluster_watch::poll() {
  if (stopped_) return;
  for (node_id id : cluster_.node_ids()) {
    if (!cluster_.up(id) || cluster_.paused(id)) continue;
    net::message request;
    request.type = net::message_type::status;
    loop_.call(*clients_[id - 1], shard_, std::move(request),
               [this, id](net::message response) { took(id, response); });
  }
  loop_.after(status_every_ns, [this] { poll(); });
}

void cluster_watch::took(node_id id, const net::message& response) {
  if (!net::error_of(response).ok()) return;
  const nlohmann::json doc = nlohmann::json::parse(response.value, nullptr, false);
  if (!doc.is_object() || doc.value("stopped", false)) return;
  node_status s;
  s.role = doc.value("role", std::string());
  s.term = doc.value("term", std::uint64_t{0});
  s.commit = doc.value("commit", std::uint64_t{0});
  s.applied = doc.value("applied", std::uint64_t{0});
  s.at_ns = loop_.now_ns();
  ++answers_;
  const auto before = statuses_.find(id);
  if (history_ && (before == statuses_.end() || before->second.role != s.role || before->second.term != s.term))
    history_->node(s.at_ns, id, s.role, s.term);
  statuses_[id] = s;
  // A node started alone (a cluster of its own, by mistake) leads its own terms: not this cluster's.
  if (s.role == "leader" && !cluster_.misconfigured(id)) leaders_[s.term].insert(id);
}

void cluster_watch::record_into(sim::history_recorder* history) {
  history_ = history;
  if (history_)
    for (const auto& [id, s] : statuses_) history_->node(loop_.now_ns(), id, s.role, s.term);
}

std::optional<node_id> cluster_watch::leader() const {
  std::optional<node_id> best;
  std::uint64_t best_term = 0;
  for (const auto& [id, s] : statuses_)
    if (s.role == "leader" && s.term >= best_term && cluster_.up(id)) {
      best = id;
      best_term = s.term;
    }
  return best;
}

bool cluster_watch::quiet() const {
  const std::optional<node_id> lead = leader();
  if (!lead) return false;
  const std::uint64_t commit = statuses_.at(*lead).commit;
  for (node_id id : cluster_.node_ids()) {
    const auto it = statuses_.find(id);
    if (it == statuses_.end() || it->second.applied != commit ||
        it->second.at_ns + 2 * status_every_ns < loop_.now_ns())
      return false;
  }
  return true;
}

std::string cluster_watch::describe() const {
  std::string seen;
  for (const auto& [id, s] : statuses_)
    seen += " node " + std::to_string(id) + " " + s.role + " term " + std::to_string(s.term) + " commit " +
            std::to_string(s.commit) + " applied " + std::to_string(s.applied) + ";";
  return seen;
}

sim::check_result cluster_watch::elections() const {
  for (const auto& [term, led] : leaders_)
    if (led.size() > 1) {
      std::string who;
      for (node_id id : led) who += (who.empty() ? "" : " and ") + std::to_string(id);
      return {"elections", false,
              "term " + std::to_string(term) + " was led by nodes " + who + " (their statuses said so)"};
    }
  return {"elections", true,
          std::to_string(leaders_.size()) + " terms seen led, one leader each (statuses every " +
              std::to_string(status_every_ns / ms_ns) + " ms: a leader that led for less may go unseen)"};
}

sim::check_result cluster_watch::stable_leader() const {
  if (leaders_.size() <= 1) return {"stable-leader", true, "one term led in all the statuses seen"};
  return {"stable-leader", false, std::to_string(leaders_.size()) + " terms were led"};
}

sim::check_result cluster_watch::convergence() {
  std::string first;
  std::uint64_t index = 0;
  for (node_id id : cluster_.node_ids()) {
    net::message request;
    request.type = net::message_type::status;
    request.key = "digests";
    const net::message answer = loop_.call_and_wait(*clients_[id - 1], shard_, std::move(request));
    const nlohmann::json doc = nlohmann::json::parse(answer.value, nullptr, false);
    if (!net::error_of(answer).ok() || !doc.is_object() || !doc.contains("engine_digest"))
      return {"convergence", false, "node " + std::to_string(id) + " did not report its digests"};
    const std::uint64_t applied = doc.value("applied", std::uint64_t{0});
    const std::string seen = "applied index " + std::to_string(applied) + ", engine " +
                             doc.value("engine_digest", std::string()) + ", sessions " +
                             doc.value("sessions_digest", std::string());
    if (first.empty()) {
      first = seen;
      index = applied;
    } else if (seen != first) {
      return {"convergence", false,
              "node " + std::to_string(id) + " has " + seen + "; node " + std::to_string(cluster_.node_ids().front()) +
                  " has " + first};
    }
  }
  return {"convergence", true,
          std::to_string(cluster_.node_ids().size()) + " replicas at applied index " + std::to_string(index) +
              " with equal engine and session digests"};
}

}  // namespace dkv::real
