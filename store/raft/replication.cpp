// Log replication (both sides), snapshots, the commit rule and membership
// bookkeeping of a replica.

#include <algorithm>
#include <functional>

#include "store/assert.hpp"
#include "store/bugs.hpp"
#include "store/raft/replica.hpp"

namespace dkv::raft {

namespace {

std::size_t payload_bytes(const std::vector<entry>& entries) {
  std::size_t bytes = 0;
  for (const entry& e : entries) bytes += e.data.size();
  return bytes;
}

}  // namespace

// ---- follower side --------------------------------------------------------

void replica::handle_append(const message& m) {
  note_repair_target(m);
  message reply = make(rpc_type::append_reply, m.from);
  reply.repair_epoch = repair_epoch_;
  if (m.log_index < commit_) {
    // Everything up to our commit index agrees with any leader's log.
    reply.log_index = commit_;
    send_when_durable(std::move(reply));
    return;
  }
  if (!log_.matches(m.log_index, m.log_term)) {
    reply.reject = true;
    reply.log_index = m.log_index;
    if (m.log_index > log_.last_index()) {
      reply.hint_index = log_.last_index() + 1;
    } else {
      reply.hint_term = *log_.term_at(m.log_index);
      reply.hint_index = log_.first_index_of_term_run(m.log_index);
    }
    send(std::move(reply));  // a rejection promises nothing
    return;
  }
  for (const entry& e : m.entries) {
    if (e.index <= log_.snapshot_index()) continue;
    if (e.index <= log_.last_index()) {
      if (log_.matches(e.index, e.term)) continue;
      // Log matching: no leader's log disagrees with a committed entry. And
      // only a follower gives up entries: a leader's log only grows.
      DKV_ASSERT(e.index > commit_, e.index, e.term, commit_);
      DKV_ASSERT(role_ == role::follower, role_, term_);
      log_.truncate_from(e.index);  // a conflict: the leader's log wins
      on_truncated(e.index);
    }
    log_.append(e);
    if (e.kind == entry_kind::config) adopt_config(e);
  }
  const index_t last_new = m.log_index + m.entries.size();
  commit_to(std::min(m.commit, last_new));
  reply.log_index = last_new;
  send_when_durable(std::move(reply));
  check_repaired();
}

void replica::note_repair_target(const message& m) {
  // We may have acknowledged anything this leader holds (and lost it): we
  // are repaired only once all of it is durable here and committed. Only a
  // message that echoes this repair's name was sent after our restart, when
  // the leader's log held everything it had sent us before.
  if (repairing_ && repair_target_ == 0 && m.repair_epoch == repair_epoch_)
    repair_target_ = std::max<index_t>({m.leader_last, m.commit, 1});
}

void replica::handle_heartbeat(const message& m) {
  note_repair_target(m);
  // The leader sends min(our match, its commit): entries we hold and agree on.
  // Not after damage, until the leader names this repair: its match may
  // count entries we lost, and our log may hold older ones in their place
  // (recovery can stop before the records that overwrote them).
  if (!repairing_ || m.repair_epoch == repair_epoch_) commit_to(std::min(m.commit, log_.last_index()));
  message reply = make(rpc_type::heartbeat_reply, m.from);
  reply.context = m.context;
  reply.repair_epoch = repair_epoch_;
  send(std::move(reply));
  check_repaired();
}

void replica::handle_snapshot_chunk(const message& m) {
  if (m.snap.index <= commit_) {
    // We already hold all of it: tell the leader where we are.
    message reply = make(rpc_type::append_reply, m.from);
    reply.log_index = commit_;
    reply.repair_epoch = repair_epoch_;
    send_when_durable(std::move(reply));
    return;
  }
  note_repair_target(m);
  const bool same =
      incoming_term_ == m.term && incoming_meta_.index == m.snap.index && incoming_meta_.term == m.snap.term;
  if (!same && m.offset == 0) {
    incoming_meta_ = m.snap;
    incoming_term_ = m.term;
    incoming_data_.clear();
  }
  const bool fits = (same || m.offset == 0) && m.offset == incoming_data_.size();
  if (fits) incoming_data_.append(m.data.view());
  if (fits && m.done) {
    const index_t installed = incoming_meta_.index;
    install_snapshot(incoming_meta_, std::move(incoming_data_));
    incoming_data_.clear();
    incoming_meta_ = {};
    incoming_term_ = 0;
    // The snapshot's index, not our last: entries we kept after it agree
    // with the leader only at the snapshot's index, not necessarily beyond;
    // the next append checks them.
    message reply = make(rpc_type::append_reply, m.from);
    reply.log_index = installed;
    reply.repair_epoch = repair_epoch_;
    send_when_durable(std::move(reply));
    return;
  }
  message reply = make(rpc_type::snapshot_reply, m.from);
  reply.log_index = m.snap.index;
  reply.offset = incoming_data_.size();  // where the leader should go on
  send(std::move(reply));
}

void replica::install_snapshot(snapshot_meta meta, std::string&& data) {
  // Only what we have not committed: what we have may be applied already.
  DKV_ASSERT(meta.index > commit_, meta.index, commit_);
  if (!log_.restore(meta.index, meta.term)) durable_last_ = std::min(durable_last_, meta.index);
  persist_from_ = std::min(persist_from_, meta.index + 1);
  commit_to(meta.index);
  applied_ = std::max(applied_, meta.index);
  base_config_ = meta.config;
  refresh_config();
  if (has_strangers()) introduce_to_strangers();
  latest_snapshot_ = snapshot{std::move(meta), payload::copy_of(data)};
  snapshot_to_persist_ = latest_snapshot_;
}

// ---- leader side ----------------------------------------------------------

progress* replica::heard_from(node_id id) {
  progress* p = find_peer(id);
  if (p) {
    p->recent_active = true;
    p->last_heard = ++replies_heard_;
  }
  return p;
}

void replica::handle_append_reply(const message& m) {
  progress* p = heard_from(m.from);
  if (!p) return;
  const bool now_counts = p->repair_epoch != 0 && m.repair_epoch == 0;
  note_repair_epoch(*p, m);
  if (m.reject) {
    // Ignore answers to appends we have moved past.
    if (p->state == progress::mode::snapshot || m.log_index <= p->match ||
        (p->state == progress::mode::probe && m.log_index != p->next - 1))
      return;
    index_t next = m.hint_index;
    if (m.hint_term != 0) {
      // If we hold entries of the follower's conflicting term, the logs
      // agree up to our last one of them; otherwise skip that whole term.
      const index_t ours = log_.last_index_with_term_at_most(m.hint_term, m.log_index);
      if (log_.matches(ours, m.hint_term)) next = ours + 1;
    }
    p->become_probe();
    p->next = std::clamp(next, p->match + 1, m.log_index);
    return;
  }
  // A follower cannot hold more of our log than we do: only a broken
  // promise (a safety bug) makes one say so, and believing it would have us
  // send entries past our end — a snapshot at every reply, forever.
  const bool advanced = p->acknowledge(std::min(m.log_index, log_.last_index()));
  if (m.log_index >= p->match && p->state == progress::mode::probe) p->become_replicate();
  if (p->state == progress::mode::snapshot && p->match >= p->snapshot_index) p->become_replicate();
  if (!advanced && !now_counts) return;
  maybe_commit();
  if (p->id == transfer_target_ && p->match == log_.last_index() && !timeout_now_sent_) {
    send(make(rpc_type::timeout_now, p->id));
    timeout_now_sent_ = true;
  }
  maybe_promote_learners();
}

void replica::handle_heartbeat_reply(const message& m) {
  progress* p = heard_from(m.from);
  if (!p) return;
  const bool now_counts = p->repair_epoch != 0 && m.repair_epoch == 0;
  note_repair_epoch(*p, m);
  if (now_counts) maybe_promote_learners();
  p->read_round = std::max(p->read_round, m.context);
  release_confirmed_reads();
  // The follower is alive. If it acknowledged nothing since the last
  // periodic heartbeat, what we were waiting for may have been lost: in
  // replicate mode an append at our optimistic `next` either carries on or
  // draws a rejection that sends us back to probing.
  if (p->state == progress::mode::replicate) {
    if (p->match < log_.last_index() && p->match == p->match_at_beat) {
      p->free_oldest();
      send_append(*p, true);
    }
  } else {
    p->paused = false;
  }
}

void replica::handle_snapshot_reply(const message& m) {
  progress* p = heard_from(m.from);
  if (!p) return;
  if (p->state != progress::mode::snapshot || m.log_index != p->snapshot_index) return;
  p->snapshot_offset = m.offset;
  p->paused = false;
}

message replica::to_follower(rpc_type type, const progress& p) const {
  message m = make(type, p.id);
  m.leader_last = log_.last_index();
  m.repair_epoch = p.repair_epoch;
  return m;
}

void replica::note_repair_epoch(progress& p, const message& m) {
  // A new repair: the follower lost data we counted as matched. Start over
  // from nothing, as with a stranger.
  if (m.repair_epoch != 0 && m.repair_epoch != p.repair_epoch) {
    p.match = 0;
    p.become_probe();
  }
  p.repair_epoch = m.repair_epoch;
}

void replica::send_appends(progress& p) {
  // New entries only. A commit index reaches a follower with the next append
  // or heartbeat: an append of its own would cost two messages per write.
  if (p.state == progress::mode::replicate)
    while (send_append(p, false)) {
    }
  else
    send_append(p, true);
}

bool replica::send_append(progress& p, bool allow_empty) {
  if (p.state == progress::mode::snapshot) {
    send_snapshot_chunk(p);
    return false;
  }
  if (p.paused) return false;
  if (p.state == progress::mode::replicate && p.window_full(opts_.max_inflight_messages, opts_.max_inflight_bytes))
    return false;
  const index_t prev = p.next - 1;
  const auto prev_term = log_.term_at(prev);
  if (!prev_term) {
    // The follower needs entries we have compacted away.
    if (!latest_snapshot_) return false;
    p.become_snapshot(latest_snapshot_->meta.index);
    send_snapshot_chunk(p);
    return false;
  }
  std::vector<entry> entries;
  if (p.next <= log_.last_index()) entries = log_.slice(p.next, log_.last_index() + 1, opts_.max_append_bytes);
  if (entries.empty() && !allow_empty) return false;
  message m = to_follower(rpc_type::append, p);
  m.log_index = prev;
  m.log_term = *prev_term;
  m.commit = commit_;
  if (p.state == progress::mode::probe)
    p.paused = true;  // one at a time
  else if (!entries.empty())
    p.sent(entries.back().index, payload_bytes(entries));
  m.entries = std::move(entries);
  send(std::move(m));
  return true;
}

void replica::send_snapshot_chunk(progress& p) {
  if (p.paused || !latest_snapshot_) return;
  if (latest_snapshot_->meta.index != p.snapshot_index) {
    p.snapshot_index = latest_snapshot_->meta.index;
    p.snapshot_offset = 0;
  }
  const std::string_view data = latest_snapshot_->data.view();
  const std::uint64_t offset = std::min<std::uint64_t>(p.snapshot_offset, data.size());
  const std::string_view chunk = data.substr(offset, opts_.snapshot_chunk_bytes);
  message m = to_follower(rpc_type::snapshot_chunk, p);
  m.snap = latest_snapshot_->meta;
  m.offset = offset;
  m.data = payload::copy_of(chunk);
  m.done = offset + chunk.size() == data.size();
  p.paused = true;  // stop and wait: the reply says where to go on
  send(std::move(m));
}

void replica::send_heartbeat(const progress& p, std::uint64_t context) {
  message m = to_follower(rpc_type::heartbeat, p);
  m.commit = std::min(p.match, commit_);
  m.context = context;
  send(std::move(m));
}

void replica::broadcast_heartbeat(std::uint64_t context) {
  for (const progress& p : peers_) send_heartbeat(p, context);
}

void replica::maybe_commit() {
  // The quorum-th highest match among voters; the leader's own counts only
  // as far as its disk goes.
  match_scratch_.clear();
  if (promotable()) match_scratch_.push_back(durable_last_);
  for (const progress& p : peers_)
    if (counts(p)) match_scratch_.push_back(p.match);
  const std::size_t quorum = config_.quorum();
  if (match_scratch_.size() < quorum) return;
  std::nth_element(match_scratch_.begin(), match_scratch_.begin() + static_cast<std::ptrdiff_t>(quorum - 1),
                   match_scratch_.end(), std::greater<>());
  const index_t candidate = match_scratch_[quorum - 1];
  if (candidate <= commit_) return;
  // Figure 8: entries of earlier terms commit only under one of ours.
  if (!log_.matches(candidate, term_)) {
    // injected bug figure8_commit: an earlier term's entry commits as soon as a majority holds it.
    if (bugs::on(bugs::bug::figure8_commit)) commit_to(candidate);  // (this term has committed nothing of its own)
    return;
  }
  commit_to(candidate);
  committed_in_term_ = true;
  start_waiting_reads();
  maybe_promote_learners();
  if (config_index_ <= commit_ && !promotable()) become_follower(term_, no_node);  // we removed ourselves
}

void replica::commit_to(index_t index) {
  if (index <= commit_) return;  // old news: the commit index never goes back
  DKV_ASSERT(index <= log_.last_index(), index, log_.last_index(), commit_);
  commit_ = index;
}

// ---- log and membership ---------------------------------------------------

index_t replica::append_entry(entry_kind kind, payload data) {
  // Only a leader writes entries of its own; a follower's come from its leader.
  DKV_ASSERT(role_ == role::leader, role_, term_);
  const index_t index = log_.last_index() + 1;
  log_.append({term_, index, kind, std::move(data)});
  if (kind == entry_kind::config) adopt_config(log_.at(index));
  return index;
}

void replica::adopt_config(const entry& e, bool introduce) {
  // A configuration takes effect as soon as it is in the log (thesis §4.1).
  if (auto decoded = decode_membership(e.data.view())) {
    config_ = std::move(*decoded);
    config_index_ = e.index;
    if (role_ == role::leader) sync_peers();
    note_introduced();
    if (introduce && has_strangers()) introduce_to_strangers();  // voters new to us
  }
}

void replica::on_truncated(index_t index) {
  persist_from_ = std::min(persist_from_, index);
  durable_last_ = std::min(durable_last_, index - 1);
  // A ready handed out before holds entries from index on that are no longer
  // ours: once it is on disk, only what comes before them agrees with us.
  for (handed_out& h : unacknowledged_)
    if (h.last_index >= index) {
      h.last_index = index - 1;
      h.last_term = log_.term_at(index - 1).value_or(0);
    }
  if (config_index_ >= index) refresh_config();
}

void replica::refresh_config() {
  config_ = base_config_;
  config_index_ = log_.snapshot_index();
  for (index_t i = log_.first_index(); i <= log_.last_index(); ++i)
    if (log_.at(i).kind == entry_kind::config) adopt_config(log_.at(i), false);
  note_introduced();
}

membership replica::config_at(index_t index) const {
  for (index_t i = std::min(index, log_.last_index()); i >= log_.first_index(); --i)
    if (log_.at(i).kind == entry_kind::config)
      if (auto decoded = decode_membership(log_.at(i).data.view())) return *decoded;
  return base_config_;
}

void replica::sync_peers() {
  std::erase_if(peers_, [&](const progress& p) { return !config_.contains(p.id); });
  for (const auto* group : {&config_.voters, &config_.learners})
    for (node_id id : *group)
      if (id != opts_.id && !find_peer(id)) {
        peers_.emplace_back(id, log_.last_index() + 1);
        peers_.back().recent_active = true;  // a grace period before check-quorum counts it
      }
}

void replica::maybe_promote_learners() {
  if (role_ != role::leader || !committed_in_term_ || config_index_ > commit_ || transfer_target_ != no_node) return;
  std::erase_if(to_promote_, [&](node_id id) { return !config_.is_learner(id); });
  for (node_id id : to_promote_) {
    const progress* p = find_peer(id);
    if (!p || p->match == 0 || !p->recent_active || p->match + opts_.catch_up_entries < log_.last_index()) continue;
    if (p->repair_epoch != 0) continue;  // repairing, or not yet known to every voter (identity.hpp)
    const membership next = promote(config_, id);
    if (!healthy_quorum(next)) continue;
    append_entry(entry_kind::config, payload::copy_of(encode_membership(next)));
    return;  // one change at a time
  }
}

std::optional<snapshot> replica::compact(index_t index, payload data) {
  if (index <= log_.snapshot_index() || index > applied_) return std::nullopt;
  snapshot taken{{index, *log_.term_at(index), config_at(index)}, std::move(data)};
  log_.compact(index);
  base_config_ = taken.meta.config;
  latest_snapshot_ = taken;
  return taken;
}

}  // namespace dkv::raft
