#include "tests/raft/raft_cluster.hpp"

#include <algorithm>
#include <cstring>

#include "store/byte_io.hpp"

namespace dkv::raft::testing {

namespace {

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

std::uint64_t fingerprint(const entry& e) {
  std::uint64_t h = mix(mix(e.term, e.index), static_cast<std::uint64_t>(e.kind));
  for (char c : e.data.view()) h = mix(h, static_cast<unsigned char>(c));
  return h;
}

std::string describe(const entry& e) {
  return "(index " + std::to_string(e.index) + ", term " + std::to_string(e.term) + ", " +
         std::to_string(e.data.size()) + " bytes)";
}

}  // namespace

void digest_machine::apply(const entry& e) {
  applied = e.index;
  digest = mix(digest, fingerprint(e));
}

std::string digest_machine::snapshot() const {
  std::string out;
  byte_writer w(out);
  w.u64(applied);
  w.u64(digest);
  return out;
}

bool digest_machine::restore(std::string_view bytes) {
  byte_reader r(bytes);
  return r.u64(applied) && r.u64(digest) && r.remaining() == 0;
}

raft_cluster::raft_cluster(std::size_t voters, std::uint64_t seed, options base, std::size_t spares)
    : base_(std::move(base)), seed_(seed), nodes_(voters + spares) {
  base_.initial_voters.clear();
  for (node_id id = 1; id <= voters; ++id) base_.initial_voters.push_back(id);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].id = i + 1;
    restart(i + 1);
  }
  process();  // the founders' first entry goes to disk
  deliver_all();  // and the members introduce themselves (identity.hpp)
}

void raft_cluster::restart(node_id id) {
  node& n = at(id);
  options opts = base_;
  opts.id = id;
  if (id > base_.initial_voters.size()) opts.initial_voters.clear();  // joins later
  n.machine = {};
  const durable_state kept = n.disk.recover();
  if (kept.latest_snapshot && !n.machine.restore(kept.latest_snapshot->data.view()))
    fail("node " + std::to_string(id) + ": stored snapshot does not decode");
  n.raft = std::make_unique<replica>(opts, kept, seed_ * 1000003 + id * 7919 + n.restarts * 104729);
}

void raft_cluster::crash(node_id id, std::size_t written) {
  node& n = at(id);
  if (!n.up()) return;
  for (std::size_t i = 0; i < std::min(written, n.unpersisted.size()); ++i) {
    (void)n.disk.persist(n.unpersisted[i]);
    if (n.unpersisted[i].repaired) n.disk.repaired();
  }
  n.unpersisted.clear();
  n.raft.reset();
  ++n.restarts;
}

void raft_cluster::process() {
  std::size_t rounds = 0;
  for (bool moved = true; moved;) {
    if (++rounds > 10'000) return fail("livelock: replicas keep handing out readies without input");
    moved = false;
    for (node& n : nodes_) {
      if (!n.up()) continue;
      ready r = n.raft->take_ready();
      if (r.empty()) continue;
      moved = true;
      handle(n, std::move(r));
    }
  }
  check();
}

void raft_cluster::process(node_id id) {
  node& n = at(id);
  for (std::size_t rounds = 0; n.up(); ++rounds) {
    if (rounds > 10'000) return fail("livelock: node " + std::to_string(id) + " keeps handing out readies");
    ready r = n.raft->take_ready();
    if (r.empty()) break;
    handle(n, std::move(r));
  }
  check();
}

void raft_cluster::handle(node& n, ready r) {
  for (message& m : r.messages) route(std::move(m));
  r.messages.clear();
  apply(n, r);
  n.reads_served.insert(n.reads_served.end(), r.reads.begin(), r.reads.end());
  n.reads_failed.insert(n.reads_failed.end(), r.failed_reads.begin(), r.failed_reads.end());
  if (!r.must_persist()) {
    // The commit index alone needs no sync: kept at once by an auto-persisting
    // disk, else left to the next ready's state (a crash may lose it).
    if (r.state && auto_persist) (void)n.disk.persist(r);
    if (r.repaired) n.disk.repaired();
    return;
  }
  if (auto_persist) {
    (void)n.disk.persist(r);
    if (r.repaired) n.disk.repaired();
    n.raft->persisted(r.sequence);
  } else {
    r.committed.clear();
    n.unpersisted.push_back(std::move(r));
  }
}

bool raft_cluster::persist_one(node_id id) {
  node& n = at(id);
  if (!n.up() || n.unpersisted.empty()) return false;
  (void)n.disk.persist(n.unpersisted.front());
  if (n.unpersisted.front().repaired) n.disk.repaired();
  const std::uint64_t sequence = n.unpersisted.front().sequence;
  n.unpersisted.erase(n.unpersisted.begin());
  n.raft->persisted(sequence);
  process(id);
  return true;
}

bool raft_cluster::persist_all(node_id id) {
  node& n = at(id);
  if (!n.up() || n.unpersisted.empty()) return false;
  for (const ready& r : n.unpersisted) {
    (void)n.disk.persist(r);
    if (r.repaired) n.disk.repaired();
  }
  const std::uint64_t sequence = n.unpersisted.back().sequence;
  n.unpersisted.clear();
  n.raft->persisted(sequence);
  process(id);
  return true;
}

void raft_cluster::apply(node& n, const ready& r) {
  const std::string who = "node " + std::to_string(n.id) + ": ";
  if (r.snapshot) {
    digest_machine restored;
    if (!restored.restore(r.snapshot->data.view()) || restored.applied != r.snapshot->meta.index)
      return fail(who + "snapshot does not decode");
    const auto known = digest_at_.find(restored.applied);
    if (known != digest_at_.end() && known->second != restored.digest)
      return fail(who + "installed a snapshot that differs from the committed state at index " +
                  std::to_string(restored.applied));
    if (restored.applied > n.machine.applied) n.machine = restored;
  }
  for (const entry& e : r.committed) {
    if (e.index != n.machine.applied + 1)
      return fail(who + "applied index " + std::to_string(e.index) + " after " + std::to_string(n.machine.applied));
    if (e.index > n.raft->durable_index())
      return fail(who + "applied index " + std::to_string(e.index) + " before it was durable");
    const auto [it, fresh] = committed_.emplace(e.index, e);
    if (!fresh && !(it->second == e))
      return fail("state machine safety: " + who + "applied " + describe(e) + " where another applied " +
                  describe(it->second));
    n.machine.apply(e);
    const auto [d, first] = digest_at_.emplace(e.index, n.machine.digest);
    if (!first && d->second != n.machine.digest)
      return fail("state machine safety: " + who + "state differs at index " + std::to_string(e.index));
  }
}

void raft_cluster::route(message m) { pool_.push_back(std::move(m)); }

void raft_cluster::deliver(std::size_t k) {
  const message m = std::move(pool_[k]);
  pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(k));
  arrive(m);
}

void raft_cluster::arrive(const message& m) {
  node& to = at(m.to);
  const bool arrives = to.up() && connected(m.from, m.to);
  if (trace)
    *trace << "    " << (arrives ? "" : "lost: ") << rpc_name(m.type) << ' ' << m.from << "->" << m.to << " term "
           << m.term << " index " << m.log_index << " entries " << m.entries.size() << " commit " << m.commit
           << (m.reject ? " reject" : "") << (m.repair_epoch ? " repair " + std::to_string(m.repair_epoch) : "")
           << '\n';
  if (!arrives) return;
  to.raft->step(m);
  process(m.to);
}

void raft_cluster::drop(std::size_t k) { pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(k)); }

void raft_cluster::duplicate(std::size_t k) { arrive(message(pool_[k])); }

std::size_t raft_cluster::deliver_all(std::size_t limit) {
  std::size_t delivered = 0;
  process();
  while (!pool_.empty() && delivered < limit) {
    deliver(0);
    ++delivered;
    process();
  }
  return delivered;
}

void raft_cluster::tick(node_id id, std::uint32_t ticks) {
  if (!at(id).up()) return;
  raft(id).tick(ticks);
  process(id);
}

void raft_cluster::tick_all() {
  for (node& n : nodes_)
    if (n.up()) n.raft->tick();
  process();
}

void raft_cluster::isolate(node_id id) { partition({id}); }

void raft_cluster::partition(const std::set<node_id>& side) {
  for (node_id a = 1; a <= size(); ++a)
    for (node_id b = 1; b <= size(); ++b)
      if (side.count(a) != side.count(b)) cut_.insert({a, b});
}

bool raft_cluster::compact(node_id id) {
  node& n = at(id);
  if (!n.up()) return false;
  auto taken = n.raft->compact(n.machine.applied, payload::copy_of(n.machine.snapshot()));
  if (!taken) return false;
  (void)n.disk.save_snapshot(*taken);
  return true;
}

std::optional<node_id> raft_cluster::leader() const {
  std::optional<node_id> best;
  term_t best_term = 0;
  for (const node& n : nodes_)
    if (n.up() && n.raft->is_leader() && n.raft->term() >= best_term) {
      best = n.id;
      best_term = n.raft->term();
    }
  return best;
}

std::optional<node_id> raft_cluster::elect_someone(std::size_t max_ticks) {
  for (std::size_t t = 0; t < max_ticks; ++t) {
    deliver_all();
    if (auto l = leader()) return l;
    tick_all();
  }
  return std::nullopt;
}

void raft_cluster::elect(node_id id) {
  raft(id).campaign();
  deliver_all();
}

std::string raft_cluster::summary() const {
  const auto ids = [](const std::vector<node_id>& v) {
    std::string out;
    for (node_id id : v) out += (out.empty() ? "" : ",") + std::to_string(id);
    return "{" + out + "}";
  };
  std::string out;
  for (const node& n : nodes_) {
    out += "\n  node " + std::to_string(n.id) + ": ";
    if (!n.up()) {
      out += "down";
      continue;
    }
    const replica& r = *n.raft;
    out += std::string(role_name(r.current_role())) + " term " + std::to_string(r.term()) + " vote " +
           std::to_string(r.vote()) + " leader " + std::to_string(r.leader()) + " log " +
           std::to_string(r.log().first_index()) + ".." + std::to_string(r.log().last_index()) + "@" +
           std::to_string(r.log().last_term()) + " commit " + std::to_string(r.commit_index()) + " voters " +
           ids(r.config().voters) + " learners " + ids(r.config().learners);
  }
  return out;
}

void raft_cluster::fail(std::string why) {
  if (failure_.empty()) failure_ = std::move(why);
}

void raft_cluster::check() {
  for (node& n : nodes_) {
    if (!n.up()) continue;
    const replica& r = *n.raft;
    const raft_log& log = r.log();
    if (!r.is_leader()) {
      leader_logs_.erase(n.id);
      continue;
    }
    // Election safety: at most one leader per term.
    const auto [it, fresh] = leader_of_term_.emplace(r.term(), n.id);
    if (!fresh && it->second != n.id)
      fail("election safety: nodes " + std::to_string(it->second) + " and " + std::to_string(n.id) + " both led term " +
           std::to_string(r.term()));
    // Leader append-only: while it leads, its log only grows.
    leader_log& mine = leader_logs_[n.id];
    if (mine.term == r.term() && mine.restarts == n.restarts) {
      for (const auto& [index, term] : mine.entries)
        if (index >= log.first_index() && !log.matches(index, term))
          fail("leader append-only: leader " + std::to_string(n.id) + " of term " + std::to_string(r.term()) +
               " changed or removed its entry at index " + std::to_string(index));
    }
    mine.term = r.term();
    mine.restarts = n.restarts;
    mine.entries.clear();
    for (index_t i = log.first_index(); i <= log.last_index(); ++i) mine.entries.emplace_back(i, log.at(i).term);
    // Leader completeness: a leader holds every entry committed in an
    // earlier term (the leader that committed it is the first one seen with
    // a commit index covering it).
    for (index_t i = commits_recorded_ + 1; i <= r.commit_index(); ++i)
      if (i >= log.first_index()) commits_.emplace(i, commit_record{r.term(), log.at(i)});
    commits_recorded_ = std::max(commits_recorded_, r.commit_index());
    for (auto c = commits_.upper_bound(log.snapshot_index()); c != commits_.end(); ++c) {
      if (c->second.term >= r.term()) continue;
      if (c->first > log.last_index() || !(log.at(c->first) == c->second.committed)) {
        fail("leader completeness: leader " + std::to_string(n.id) + " of term " + std::to_string(r.term()) +
             " lacks " + describe(c->second.committed) + ", committed in term " + std::to_string(c->second.term));
        break;
      }
    }
  }
  // Log matching: where two logs hold the same term at an index, they hold
  // the same entries up to it.
  for (node& a : nodes_)
    for (node& b : nodes_) {
      if (a.id >= b.id || !a.up() || !b.up()) continue;
      const raft_log& la = a.raft->log();
      const raft_log& lb = b.raft->log();
      const index_t low = std::max(la.first_index(), lb.first_index());
      index_t high = std::min(la.last_index(), lb.last_index());
      while (high >= low && la.at(high).term != lb.at(high).term) --high;
      for (index_t i = low; i <= high && i >= low; ++i)
        if (!(la.at(i) == lb.at(i))) {
          fail("log matching: nodes " + std::to_string(a.id) + " and " + std::to_string(b.id) +
               " agree on the term at index " + std::to_string(high) + " but differ at index " + std::to_string(i));
          break;
        }
    }
}

}  // namespace dkv::raft::testing
