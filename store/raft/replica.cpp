// The replica's roles, elections, requests and the ready/persisted cycle.
// Log replication, snapshots and commits live in replication.cpp.

#include "store/raft/replica.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include "store/assert.hpp"
#include "store/bugs.hpp"

namespace dkv::raft {

std::string_view role_name(role r) noexcept {
  switch (r) {
    case role::follower: return "follower";
    case role::pre_candidate: return "pre-candidate";
    case role::candidate: return "candidate";
    case role::leader: return "leader";
  }
  return "?";
}

std::string_view refusal_name(refusal r) noexcept {
  switch (r) {
    case refusal::none: return "none";
    case refusal::not_leader: return "not leader";
    case refusal::transferring: return "leadership transfer in progress";
    case refusal::too_large: return "payload too large";
    case refusal::not_ready: return "leader has not committed in its term yet";
    case refusal::change_in_progress: return "a membership change is in progress";
    case refusal::invalid_change: return "invalid membership change";
    case refusal::unsafe_change: return "the new configuration would lack a quorum of healthy voters";
  }
  return "?";
}

std::string_view rpc_name(rpc_type type) noexcept {
  switch (type) {
    case rpc_type::pre_vote: return "pre_vote";
    case rpc_type::pre_vote_reply: return "pre_vote_reply";
    case rpc_type::vote: return "vote";
    case rpc_type::vote_reply: return "vote_reply";
    case rpc_type::append: return "append";
    case rpc_type::append_reply: return "append_reply";
    case rpc_type::heartbeat: return "heartbeat";
    case rpc_type::heartbeat_reply: return "heartbeat_reply";
    case rpc_type::snapshot_chunk: return "snapshot_chunk";
    case rpc_type::snapshot_reply: return "snapshot_reply";
    case rpc_type::timeout_now: return "timeout_now";
    case rpc_type::introduce: return "introduce";
    case rpc_type::introduce_reply: return "introduce_reply";
  }
  return "?";
}

replica::replica(options opts, durable_state recovered, std::uint64_t seed) : opts_(std::move(opts)), rng_(seed) {
  // injected bug no_prevote_checkquorum: pre-vote and check-quorum (so the lease too) are off, whatever was asked.
  if (bugs::on(bugs::bug::no_prevote_checkquorum)) opts_.pre_vote = opts_.check_quorum = false;
  opts_.election_ticks = std::max<std::uint32_t>(opts_.election_ticks, 2);
  opts_.heartbeat_ticks = std::clamp<std::uint32_t>(opts_.heartbeat_ticks, 1, opts_.election_ticks - 1);
  if (recovered.latest_snapshot) {
    const snapshot& s = *recovered.latest_snapshot;
    log_.restore(s.meta.index, s.meta.term);
    base_config_ = s.meta.config;
    latest_snapshot_ = s;
  } else {
    base_config_.voters = opts_.initial_voters;
    std::sort(base_config_.voters.begin(), base_config_.voters.end());
    base_config_.voters.erase(std::unique(base_config_.voters.begin(), base_config_.voters.end()),
                              base_config_.voters.end());
  }
  // What the disk gave back ends at the first entry that does not follow
  // the one before (the next index, no lower term): storage damage that
  // got past the checksums is not to break the log's invariants.
  for (entry& e : recovered.entries)
    if (e.index == log_.last_index() + 1 && e.term >= log_.last_term()) log_.append(std::move(e));
  term_ = recovered.state.term;
  vote_ = recovered.state.vote;
  commit_ = std::clamp(recovered.state.commit, log_.snapshot_index(), log_.last_index());
  applied_ = log_.snapshot_index();
  durable_last_ = log_.last_index();
  persist_from_ = durable_last_ + 1;
  handed_state_ = recovered.state;
  repairing_ = recovered.needs_repair;
  identity_ = std::move(recovered.identity);
  if (identity_.incarnation == 0) {
    // New here, or the storage that knew us is gone: our peers tell which.
    identity_ = {};
    identity_.incarnation = rng_.next() | 1;
    identity_changed_ = true;
  }
  // Not counted while repairing or not yet introduced: replies carry a name.
  if (repairing_ || introducing()) repair_epoch_ = rng_.next() | 1;

  const bool brand_new = term_ == 0 && !latest_snapshot_ && log_.last_index() == 0;
  if (brand_new && !base_config_.voters.empty()) {
    // The founders all start from the same first entry: the founding
    // membership, committed at term 1 (no election ever happens at term 1).
    term_ = 1;
    log_.append({1, 1, entry_kind::config, payload::copy_of(encode_membership(base_config_))});
    commit_ = 1;
  }
  refresh_config();
  reset_election_timer();
  introduce_to_strangers();
}

// ---- roles ----------------------------------------------------------------

void replica::reset_election_timer() {
  election_elapsed_ = 0;
  election_timeout_ = opts_.election_ticks + static_cast<std::uint32_t>(rng_.below(opts_.election_ticks));
}

bool replica::may_campaign() const {
  if (repairing_ || introducing()) return false;
  // A voter of the latest configuration may campaign; so may a server whose
  // removal is not committed yet. Otherwise a leader that appended its own
  // removal and then lost leadership could leave a cluster stuck: its log is
  // the most up to date, so nobody else can win, and it would never stand.
  if (promotable()) return true;
  return config_index_ > commit_ && config_at(commit_).is_voter(opts_.id);
}

bool replica::in_leader_lease() const noexcept {
  return opts_.check_quorum && leader_ != no_node && election_elapsed_ < opts_.election_ticks;
}

void replica::become_follower(term_t term, node_id leader) {
  DKV_ASSERT(term >= term_, term, term_);  // terms never go back
  const bool was_leader = role_ == role::leader;
  if (term != term_) {
    term_ = term;
    vote_ = no_node;
  }
  role_ = role::follower;
  leader_ = leader;
  votes_.clear();
  reset_election_timer();
  if (was_leader) {
    peers_.clear();
    fail_reads();
    transfer_target_ = no_node;
    to_promote_.clear();
  }
}

void replica::become_pre_candidate() {
  role_ = role::pre_candidate;
  leader_ = no_node;
  votes_.assign(1, {opts_.id, true});  // a pre-vote promises nothing: no need to persist
  reset_election_timer();
  request_votes(rpc_type::pre_vote, term_ + 1, false);
  tally_votes();
}

void replica::become_candidate(bool transfer) {
  role_ = role::candidate;
  ++term_;
  vote_ = opts_.id;
  leader_ = no_node;
  votes_.clear();
  reset_election_timer();
  // Our own vote counts once it is on disk, like anyone else's.
  message self_vote = make(rpc_type::vote_reply, opts_.id);
  send_when_durable(std::move(self_vote));
  request_votes(rpc_type::vote, term_, transfer);
}

void replica::request_votes(rpc_type type, term_t term, bool transfer) {
  for (node_id voter : config_.voters) {
    if (voter == opts_.id) continue;
    message m = make(type, voter);
    m.term = term;
    m.log_index = log_.last_index();
    m.log_term = log_.last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

void replica::become_leader() {
  // Won with our own vote in this term.
  DKV_ASSERT(role_ == role::candidate && vote_ == opts_.id, role_, vote_, opts_.id, term_);
  role_ = role::leader;
  leader_ = opts_.id;
  votes_.clear();
  committed_in_term_ = false;
  transfer_target_ = no_node;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  peers_.clear();
  sync_peers();
  append_entry(entry_kind::noop, {});
}

void replica::campaign() {
  if (role_ == role::leader || !may_campaign()) return;
  if (opts_.pre_vote)
    become_pre_candidate();
  else
    become_candidate(false);
}

// ---- elections ------------------------------------------------------------

void replica::handle_vote_request(const message& m) {
  const bool pre = m.type == rpc_type::pre_vote;
  const bool can_vote = vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
  const bool up_to_date =
      m.log_term > log_.last_term() || (m.log_term == log_.last_term() && m.log_index >= log_.last_index());
  message reply = make(pre ? rpc_type::pre_vote_reply : rpc_type::vote_reply, m.from);
  if (!can_vote || !up_to_date || repairing_ || introducing()) {
    reply.reject = true;
    send(std::move(reply));
  } else if (pre) {
    reply.term = m.term;
    send(std::move(reply));
  } else {
    vote_ = m.from;
    election_elapsed_ = 0;
    // injected bug vote_before_durable: the vote leaves before the term and vote that promise it are on disk.
    if (bugs::on(bugs::bug::vote_before_durable)) return send(std::move(reply));
    send_when_durable(std::move(reply));
  }
}

void replica::handle_vote_reply(const message& m) {
  const bool counts = role_ == role::candidate ? m.type == rpc_type::vote_reply && m.term == term_
                                               : role_ == role::pre_candidate && m.type == rpc_type::pre_vote_reply &&
                                                     m.term == (m.reject ? term_ : term_ + 1);
  if (!counts || !config_.is_voter(m.from)) return;
  if (std::none_of(votes_.begin(), votes_.end(), [&](const auto& v) { return v.first == m.from; }))
    votes_.emplace_back(m.from, !m.reject);
  tally_votes();
}

void replica::tally_votes() {
  const auto granted =
      static_cast<std::size_t>(std::count_if(votes_.begin(), votes_.end(), [](const auto& v) { return v.second; }));
  const std::size_t rejected = votes_.size() - granted;
  const std::size_t quorum = config_.quorum();
  if (granted >= quorum) {
    if (role_ == role::pre_candidate)
      become_candidate(false);
    else
      become_leader();
  } else if (rejected > config_.voters.size() - quorum) {
    become_follower(term_, no_node);
  }
}

// ---- introductions (identity.hpp) -----------------------------------------

bool replica::has_strangers() const {
  return std::any_of(config_.voters.begin(), config_.voters.end(),
                     [&](node_id v) { return v != opts_.id && !identity_.has_met(v); });
}

void replica::introduce_to_strangers() {
  // Once our incarnation is on disk: a peer must never record one we forget.
  for (node_id voter : config_.voters) {
    if (voter == opts_.id || identity_.has_met(voter)) continue;
    message m = make(rpc_type::introduce, voter);
    m.context = identity_.incarnation;
    send_when_durable(std::move(m));
  }
}

void replica::handle_introduce(const message& m) {
  const std::uint64_t before = identity_.known_as(m.from);
  message reply = make(rpc_type::introduce_reply, m.from);
  reply.context = m.context;
  reply.offset = before;
  // Another incarnation than the one we met: it lost what it had told us.
  reply.reject = before != 0 && before != m.context;
  if (before != m.context) {
    identity_.note_known(m.from, m.context);
    identity_changed_ = true;
  }
  send_when_durable(std::move(reply));  // once recorded
}

void replica::handle_introduce_reply(const message& m) {
  if (m.context != identity_.incarnation || identity_.has_met(m.from)) return;
  // injected bug amnesiac_votes: a member that lost its storage does not listen when told so.
  if (m.reject && !bugs::on(bugs::bug::amnesiac_votes))
    enter_repair("member " + std::to_string(m.from) + " knew this member by incarnation " +
                 std::to_string(m.offset) + ", and it started again as " + std::to_string(m.context) +
                 " with storage that does not remember it: what it held is lost");
  identity_.note_met(m.from);
  identity_changed_ = true;
  note_introduced();
}

void replica::note_introduced() {
  if (identity_.introduced) return;
  // A learner too: a leader promotes it only once it counts (maybe_promote_learners).
  // injected bug amnesiac_votes: a member votes without waiting for its peers to tell it whether it forgot.
  if (!bugs::on(bugs::bug::amnesiac_votes) && (!config_.contains(opts_.id) || has_strangers())) return;
  identity_.introduced = true;
  identity_changed_ = true;
  if (!repairing_) repair_epoch_ = 0;
}

void replica::enter_repair(std::string why) {
  // Like a restart on damaged storage (replica.hpp: repairing), but found
  // now: whatever leader we follow must name this repair before we trust it.
  if (role_ != role::follower) become_follower(term_, no_node);
  repairing_ = true;
  repair_target_ = 0;
  repair_epoch_ = rng_.next() | 1;
  lost_ = std::move(why);
}

// ---- inputs ---------------------------------------------------------------

namespace {

// Counters that cannot wrap: a follower that may not campaign counts on.
std::uint32_t advanced(std::uint32_t elapsed, std::uint32_t ticks) {
  return elapsed > UINT32_MAX - ticks ? UINT32_MAX : elapsed + ticks;
}

}  // namespace

void replica::tick(std::uint32_t ticks) {
  if (ticks == 0) return;
  if (has_strangers() && (introduce_elapsed_ = advanced(introduce_elapsed_, ticks)) >= opts_.election_ticks) {
    introduce_elapsed_ = 0;
    introduce_to_strangers();
  }
  if (role_ != role::leader) {
    election_elapsed_ = advanced(election_elapsed_, ticks);
    if (election_elapsed_ >= election_timeout_ && may_campaign()) campaign();
    return;
  }
  heartbeat_elapsed_ = advanced(heartbeat_elapsed_, ticks);
  if (heartbeat_elapsed_ >= opts_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    for (progress& p : peers_) p.match_at_beat = p.match;
    broadcast_heartbeat(read_round_);
    read_round_sent_ = read_round_;
  }
  if (transfer_target_ != no_node && (transfer_elapsed_ = advanced(transfer_elapsed_, ticks)) >= opts_.election_ticks)
    transfer_target_ = no_node;
  election_elapsed_ = advanced(election_elapsed_, ticks);
  if (election_elapsed_ >= opts_.election_ticks) {
    election_elapsed_ = 0;
    if (opts_.check_quorum) {
      std::size_t active = promotable() ? 1 : 0;
      for (progress& p : peers_) {
        if (p.recent_active && counts(p)) ++active;
        p.recent_active = false;
      }
      if (active < config_.quorum()) become_follower(term_, no_node);
    }
  }
}

std::optional<std::uint32_t> replica::ticks_until_due() const {
  const auto until = [](std::uint32_t elapsed, std::uint32_t limit) { return elapsed < limit ? limit - elapsed : 1; };
  std::optional<std::uint32_t> due;
  const auto sooner = [&](std::uint32_t ticks) { due = due ? std::min(*due, ticks) : ticks; };
  if (has_strangers()) sooner(until(introduce_elapsed_, opts_.election_ticks));
  if (role_ != role::leader) {
    if (may_campaign()) sooner(until(election_elapsed_, election_timeout_));
    return due;
  }
  sooner(until(heartbeat_elapsed_, opts_.heartbeat_ticks));
  sooner(until(election_elapsed_, opts_.election_ticks));
  if (transfer_target_ != no_node) sooner(until(transfer_elapsed_, opts_.election_ticks));
  return due;
}

namespace {

bool sorted_unique(const std::vector<node_id>& ids) {
  return std::is_sorted(ids.begin(), ids.end()) && std::adjacent_find(ids.begin(), ids.end()) == ids.end() &&
         std::find(ids.begin(), ids.end(), no_node) == ids.end();
}

// Messages come off a network: a corrupt or hostile one must not break the
// log's invariants. Checksums are the transport's job; this is the shape.
bool well_formed(const message& m, node_id self) {
  if (m.type > rpc_type::introduce_reply || m.from == no_node) return false;
  if (m.from == self && m.type != rpc_type::vote_reply) return false;  // only our own vote comes from us
  if (m.type == rpc_type::append) {
    term_t previous = m.log_term;
    for (std::size_t i = 0; i < m.entries.size(); ++i) {
      const entry& e = m.entries[i];
      if (e.index != m.log_index + 1 + i || e.term < previous || e.term > m.term || e.kind > entry_kind::config)
        return false;
      previous = e.term;
    }
  }
  if (m.type == rpc_type::snapshot_chunk) {
    const membership& c = m.snap.config;
    if (m.snap.index == 0 || m.snap.term > m.term || !sorted_unique(c.voters) || !sorted_unique(c.learners) ||
        m.offset > m.offset + m.data.size())
      return false;
  }
  return true;
}

}  // namespace

void replica::step(const message& m) {
  if (m.to != opts_.id) return;
  if (!well_formed(m, opts_.id)) {
    ++malformed_messages_;
    return;
  }
  // Introductions are about members, not terms: any term, any role.
  if (m.type == rpc_type::introduce) return handle_introduce(m);
  if (m.type == rpc_type::introduce_reply) return handle_introduce_reply(m);
  const bool from_leader =
      m.type == rpc_type::append || m.type == rpc_type::heartbeat || m.type == rpc_type::snapshot_chunk;
  const bool vote_request = m.type == rpc_type::vote || m.type == rpc_type::pre_vote;
  if (m.term > term_) {
    // A leader we heard recently is alive: a candidate is disruptive, unless
    // the leader itself asked for the election (leadership transfer).
    if (vote_request && !m.transfer && in_leader_lease()) return;
    const bool term_unchanged = m.type == rpc_type::pre_vote || (m.type == rpc_type::pre_vote_reply && !m.reject);
    if (!term_unchanged) become_follower(m.term, from_leader ? m.from : no_node);
  } else if (m.term < term_) {
    // A stale leader learns our term from the reply and steps down; a stale
    // pre-candidate learns it from the rejection.
    if (from_leader && (opts_.check_quorum || opts_.pre_vote)) {
      send(make(rpc_type::append_reply, m.from));
    } else if (m.type == rpc_type::pre_vote) {
      message reply = make(rpc_type::pre_vote_reply, m.from);
      reply.reject = true;
      send(std::move(reply));
    }
    return;
  }

  if (from_leader) {
    if (role_ == role::leader) return;  // one leader per term: cannot happen
    if (role_ != role::follower) become_follower(term_, m.from);
    leader_ = m.from;
    election_elapsed_ = 0;
  }
  switch (m.type) {
    case rpc_type::pre_vote:
    case rpc_type::vote: handle_vote_request(m); break;
    case rpc_type::pre_vote_reply:
    case rpc_type::vote_reply: handle_vote_reply(m); break;
    case rpc_type::append: handle_append(m); break;
    case rpc_type::heartbeat: handle_heartbeat(m); break;
    case rpc_type::snapshot_chunk: handle_snapshot_chunk(m); break;
    case rpc_type::append_reply:
      if (role_ == role::leader) handle_append_reply(m);
      break;
    case rpc_type::heartbeat_reply:
      if (role_ == role::leader) handle_heartbeat_reply(m);
      break;
    case rpc_type::snapshot_reply:
      if (role_ == role::leader) handle_snapshot_reply(m);
      break;
    case rpc_type::timeout_now:
      if (may_campaign() && role_ != role::leader) become_candidate(true);
      break;
    case rpc_type::introduce:
    case rpc_type::introduce_reply: break;  // handled above
  }
}

proposal replica::propose(payload data) { return propose_batch(std::span<const payload>(&data, 1)); }

proposal replica::propose_batch(std::span<const payload> batch) {
  if (role_ != role::leader) return refuse(refusal::not_leader);
  if (transfer_target_ != no_node) return refuse(refusal::transferring);
  for (const payload& data : batch)
    if (data.size() > opts_.max_payload_bytes) return refuse(refusal::too_large);
  for (const payload& data : batch) append_entry(entry_kind::command, data);
  return {refusal::none, opts_.id, log_.last_index(), term_};
}

proposal replica::change_membership(change_kind kind, node_id id) {
  if (role_ != role::leader) return refuse(refusal::not_leader);
  if (transfer_target_ != no_node) return refuse(refusal::transferring);
  if (!committed_in_term_) return refuse(refusal::not_ready);
  if (config_index_ > commit_) return refuse(refusal::change_in_progress);
  if (kind == change_kind::add_server && config_.is_learner(id)) {
    // Already a learner (perhaps added under an earlier leader, whose plan to
    // promote it died with its leadership): promote it once it has caught up.
    if (std::find(to_promote_.begin(), to_promote_.end(), id) == to_promote_.end()) to_promote_.push_back(id);
    maybe_promote_learners();
    return {refusal::none, opts_.id, log_.last_index(), term_};
  }
  const auto next = apply_change(config_, kind, id);
  if (!next) return refuse(refusal::invalid_change);
  // Removing a healthy voter while others are down or repairing could leave
  // a configuration that can never commit again (repairing nodes need a
  // leader to repair): refuse it, as etcd's strict reconfiguration check does.
  if (!healthy_quorum(*next)) return refuse(refusal::unsafe_change);
  if (kind == change_kind::add_server) to_promote_.push_back(id);
  const index_t index = append_entry(entry_kind::config, payload::copy_of(encode_membership(*next)));
  return {refusal::none, opts_.id, index, term_};
}

bool replica::healthy_quorum(const membership& next) const {
  std::size_t healthy = next.is_voter(opts_.id) ? 1 : 0;
  for (const progress& p : peers_)
    if (next.is_voter(p.id) && p.recent_active && p.repair_epoch == 0) ++healthy;
  return healthy >= next.quorum();
}

proposal replica::transfer_leadership(node_id target) {
  if (role_ != role::leader) return refuse(refusal::not_leader);
  if (target == opts_.id) return {refusal::none, opts_.id, 0, term_};
  if (!config_.is_voter(target)) return refuse(refusal::invalid_change);
  if (transfer_target_ != target) {
    transfer_target_ = target;
    transfer_elapsed_ = 0;
    timeout_now_sent_ = false;
    if (find_peer(target)->match == log_.last_index()) {
      send(make(rpc_type::timeout_now, target));
      timeout_now_sent_ = true;
    }
  }
  return {refusal::none, opts_.id, 0, term_};
}

// ---- reads ----------------------------------------------------------------

proposal replica::read(std::uint64_t request_id) {
  if (role_ != role::leader) return refuse(refusal::not_leader);
  if (transfer_target_ != no_node) return refuse(refusal::transferring);
  if (bugs::on(bugs::bug::leader_unconfirmed_reads)) {
    // injected bug leader_unconfirmed_reads: served at once at our commit index, no quorum asked if we still lead.
    reads_ready_.push_back({request_id, commit_});
    return {refusal::none, opts_.id, 0, term_};
  }
  if (!committed_in_term_)
    reads_before_commit_.push_back(request_id);  // the commit index may still be behind
  else
    open_read(request_id);
  return {refusal::none, opts_.id, 0, term_};
}

void replica::open_read(std::uint64_t request_id) {
  // Reads join the round not yet broadcast; one heartbeat confirms them all.
  if (read_round_ == read_round_sent_) ++read_round_;
  reads_.push_back({request_id, commit_, read_round_});
  release_confirmed_reads();
}

void replica::ask_read_round() {
  // A round needs a quorum, not everybody: ask just enough voters, those
  // heard from most recently. The periodic heartbeat asks everybody, so a
  // read whose chosen followers are slow or cut off waits one interval more.
  read_round_sent_ = read_round_;
  std::vector<const progress*> voters;
  for (const progress& p : peers_)
    if (counts(p)) voters.push_back(&p);
  const std::size_t needed = config_.quorum() - (promotable() ? 1 : 0);
  if (needed >= voters.size()) return broadcast_heartbeat(read_round_);
  const auto asked = voters.begin() + static_cast<std::ptrdiff_t>(needed);
  std::partial_sort(voters.begin(), asked, voters.end(),
                    [](const progress* a, const progress* b) { return a->last_heard > b->last_heard; });
  std::for_each(voters.begin(), asked, [&](const progress* p) { send_heartbeat(*p, read_round_); });
}

void replica::start_waiting_reads() {
  for (std::uint64_t id : reads_before_commit_) open_read(id);
  reads_before_commit_.clear();
}

void replica::release_confirmed_reads() {
  std::size_t released = 0;
  for (const pending_read& r : reads_) {
    std::size_t confirmed = promotable() ? 1 : 0;
    for (const progress& p : peers_)
      if (p.read_round >= r.round && counts(p)) ++confirmed;
    if (confirmed < config_.quorum()) break;
    reads_ready_.push_back({r.id, r.index});
    ++released;
  }
  reads_.erase(reads_.begin(), reads_.begin() + static_cast<std::ptrdiff_t>(released));
}

void replica::fail_reads() {
  reads_failed_.insert(reads_failed_.end(), reads_before_commit_.begin(), reads_before_commit_.end());
  for (const pending_read& r : reads_) reads_failed_.push_back(r.id);
  reads_before_commit_.clear();
  reads_.clear();
}

// ---- outputs --------------------------------------------------------------

message replica::make(rpc_type type, node_id to) const {
  message m;
  m.type = type;
  m.from = opts_.id;
  m.to = to;
  m.term = term_;
  return m;
}

void replica::send(message m) { outbox_.push_back(std::move(m)); }

bool replica::durable_work_pending() const noexcept {
  return handed_state_.term != term_ || handed_state_.vote != vote_ || persist_from_ <= log_.last_index() ||
         snapshot_to_persist_.has_value() || identity_changed_ || !lost_.empty();
}

void replica::send_when_durable(message m) {
  // Wait for everything known so far to be on disk: simple, and never early.
  const std::uint64_t needs = durable_work_pending() ? next_sequence_ : next_sequence_ - 1;
  if (needs <= persisted_sequence_)
    deliver(std::move(m));
  else
    held_.push_back({needs, std::move(m)});
}

bool replica::supersedes(const message& later, const message& earlier) noexcept {
  // One disk sync often releases several acknowledgements to the leader: the
  // last one covers the others (the leader keeps only the highest match).
  const auto ack = [](const message& m) { return m.type == rpc_type::append_reply && !m.reject; };
  return ack(later) && ack(earlier) && later.to == earlier.to && later.term == earlier.term &&
         later.repair_epoch == earlier.repair_epoch && later.log_index >= earlier.log_index;
}

void replica::deliver(message m) {
  if (m.to == opts_.id)
    step(m);
  else
    send(std::move(m));
}

ready replica::take_ready() {
  if (role_ == role::leader) {
    if (read_round_ > read_round_sent_) ask_read_round();
    for (progress& p : peers_) send_appends(p);
  }
  ready r;
  const hard_state now{term_, vote_, commit_};
  DKV_ASSERT(now.term >= handed_state_.term, now.term, handed_state_.term);  // the disk's term never goes back
  if (durable_work_pending()) {
    r.sequence = next_sequence_++;
    r.snapshot = std::move(snapshot_to_persist_);
    snapshot_to_persist_.reset();
    if (now != handed_state_) r.state = handed_state_ = now;
    if (persist_from_ <= log_.last_index())
      r.entries = log_.slice(std::max(persist_from_, log_.first_index()), log_.last_index() + 1);
    persist_from_ = log_.last_index() + 1;
    unacknowledged_.push_back({r.sequence, log_.last_index(), log_.last_term()});
    if (std::exchange(identity_changed_, false)) r.identity = identity_;
    r.lost = std::exchange(lost_, {});
  } else if (now != handed_state_) {
    r.state = handed_state_ = now;  // the commit index alone: no sync (ready.hpp)
  }
  // injected bug apply_before_commit: what is durable is applied, committed or not.
  const index_t applicable =
      bugs::on(bugs::bug::apply_before_commit) ? durable_last_ : std::min(commit_, durable_last_);
  if (applied_ < applicable) {
    r.committed = log_.slice(applied_ + 1, applicable + 1);
    applied_ = applicable;
  }
  check_invariants();
  r.repaired = std::exchange(repaired_, false);
  r.messages = std::move(outbox_);
  r.reads = std::move(reads_ready_);
  r.failed_reads = std::move(reads_failed_);
  outbox_.clear();
  reads_ready_.clear();
  reads_failed_.clear();
  return r;
}

void replica::persisted(std::uint64_t sequence) {
  // Only readies handed out can be durable; an acknowledgement that comes
  // again is old news.
  DKV_ASSERT(sequence < next_sequence_, sequence, next_sequence_);
  if (sequence <= persisted_sequence_) return;
  persisted_sequence_ = sequence;
  std::size_t done = 0;
  for (const handed_out& h : unacknowledged_) {
    if (h.sequence > sequence) break;
    // What the disk holds now agrees with our log up to h.last_index only if
    // the log was not truncated below it since (log matching: same index and
    // term means the same prefix).
    if (log_.matches(h.last_index, h.last_term)) durable_last_ = std::max(durable_last_, h.last_index);
    ++done;
  }
  unacknowledged_.erase(unacknowledged_.begin(), unacknowledged_.begin() + static_cast<std::ptrdiff_t>(done));

  std::vector<held_message> ready_to_go;
  auto still_held = std::stable_partition(held_.begin(), held_.end(),
                                          [&](const held_message& h) { return h.needs_sequence > sequence; });
  std::move(still_held, held_.end(), std::back_inserter(ready_to_go));
  held_.erase(still_held, held_.end());
  for (std::size_t i = 0; i < ready_to_go.size(); ++i) {
    const auto later_says_more = [&](const held_message& later) { return supersedes(later.m, ready_to_go[i].m); };
    if (std::none_of(ready_to_go.begin() + static_cast<std::ptrdiff_t>(i) + 1, ready_to_go.end(), later_says_more))
      deliver(std::move(ready_to_go[i].m));
  }
  if (role_ == role::leader) maybe_commit();
  check_repaired();
}

void replica::check_repaired() {
  // Everything the cluster had committed when we first heard a leader is on
  // our disk again: whatever we lost, we hold what anyone relied on.
  if (!repairing_ || repair_target_ == 0 || durable_last_ < repair_target_ || commit_ < repair_target_ ||
      leader_ == no_node)
    return;
  repairing_ = false;
  if (!introducing()) repair_epoch_ = 0;
  repaired_ = true;
  // A vote of this term may be among what was lost; the leader we caught up
  // from won it anyway, so record the vote as theirs: we can never give this
  // term's vote to anyone else.
  if (vote_ == no_node) vote_ = leader_;
}

void replica::check_invariants() const {
  // snapshot <= applied <= commit <= last: nothing is applied before it
  // commits, and nothing commits that the log does not hold.
  DKV_ASSERT(log_.snapshot_index() <= applied_, log_.snapshot_index(), applied_);
  DKV_ASSERT(applied_ <= commit_, applied_, commit_);
  DKV_ASSERT(commit_ <= log_.last_index(), commit_, log_.last_index());
  DKV_ASSERT(durable_last_ <= log_.last_index(), durable_last_, log_.last_index());
  // A member that may not count names itself in its replies, and only then.
  DKV_ASSERT((repairing_ || introducing()) == (repair_epoch_ != 0), repairing_, introducing(), repair_epoch_);
  if (role_ != role::leader) return;
  DKV_ASSERT(!repairing_ && !introducing(), repairing_, introducing());  // only a member that counts leads
  DKV_ASSERT(leader_ == opts_.id, leader_, opts_.id);
  // A follower's progress: it holds up to match, gets entries from next on,
  // and neither goes past our log (which only grows while we lead).
  for (const progress& p : peers_)
    DKV_ASSERT(p.match < p.next && p.next <= log_.last_index() + 1, p.id, p.match, p.next, log_.last_index());
}

const progress* replica::peer(node_id id) const noexcept {
  for (const progress& p : peers_)
    if (p.id == id) return &p;
  return nullptr;
}

progress* replica::find_peer(node_id id) noexcept { return const_cast<progress*>(std::as_const(*this).peer(id)); }

}  // namespace dkv::raft
