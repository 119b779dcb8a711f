#include "actors/raft/raft_node.hpp"

#include <caf/send.hpp>

#include <chrono>

#include "actors/messages.hpp"
#include "store/assert.hpp"
#include "store/bugs.hpp"
#include "store/raft/message_codec.hpp"
#include "store/replicated/log_command.hpp"

namespace dkv::actors {

namespace {

std::uint8_t code(error_code c) { return static_cast<std::uint8_t>(c); }

// FNV-1a over an entry's term, kind and bytes: equal entries, equal prints.
std::uint64_t fingerprint(const raft::entry& e) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&](unsigned char c) { h = (h ^ c) * 0x100000001b3ULL; };
  for (int shift = 0; shift < 64; shift += 8) mix(static_cast<unsigned char>(e.term >> shift));
  mix(static_cast<unsigned char>(e.kind));
  for (char c : e.data.view()) mix(static_cast<unsigned char>(c));
  return h;
}

// "850 ms", "5.6 s": a duration in what a node says.
std::string duration_text(std::uint64_t ns) {
  const std::uint64_t ms = ns / 1'000'000;
  if (ms < 1000) return std::to_string(ms) + " ms";
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

}  // namespace

raft_node::raft_node(caf::actor_config& cfg, raft_node_config config, dkv::storage::file_system* files,
                     std::shared_ptr<transport> network, std::shared_ptr<local_clock> clock, std::uint64_t seed,
                     raft_node_status* status)
    : caf::event_based_actor(cfg),
      config_(std::move(config)),
      files_(files),
      network_(std::move(network)),
      clock_(std::move(clock)),
      seed_(seed),
      status_(status),
      machine_(config_.machine) {
  // A failed DKV_ASSERT whose handler unwinds (the simulator's) ends the
  // node here, as a stop: the handler has reported it already, and CAF's
  // default handler would print it again. Any other exception goes there.
  set_exception_handler([this](caf::scheduled_actor* self, std::exception_ptr& thrown) -> caf::error {
    try {
      std::rethrow_exception(thrown);
    } catch (const broken_invariant& failed) {
      if (status_) {
        status_->stopped = true;
        status_->stop_reason = std::string("assertion failed: ") + failed.what();
      }
      return caf::exit_reason::unhandled_exception;
    } catch (...) {
      return caf::scheduled_actor::default_exception_handler(self, thrown);
    }
  });
}

bool raft_node::start() {
  if (error e = raft::wal_storage::open(*files_, config_.wal, storage_); !e.ok()) {
    stop("cannot open its storage: " + e.message());
    return false;
  }
  // injected bug ack_before_durable: the log is never synced, yet its entries are acknowledged as durable.
  if (bugs::on(bugs::bug::ack_before_durable)) storage_->break_durability_for_testing();
  raft::durable_state recovered = storage_->recover();
  started_empty_ = !recovered.latest_snapshot && recovered.entries.empty() && recovered.state.term == 0;
  if (recovered.latest_snapshot) {
    if (error e = machine_.load(recovered.latest_snapshot->data.view()); !e.ok()) {
      stop("its snapshot does not load: " + e.message());
      return false;
    }
    last_snapshot_ = recovered.latest_snapshot->meta.index;
    // A snapshot is the state machine at its index (maybe_snapshot).
    DKV_ASSERT(machine_.applied_index() == last_snapshot_, machine_.applied_index(), last_snapshot_);
  }
  if (!storage_->damaged()) {
    replica_ = std::make_unique<raft::replica>(config_.raft, std::move(recovered), seed_);
  } else if (!open_damaged(std::move(recovered))) {
    return false;
  }
  observe_digests();
  tick_period_ = measure_tick_period();
  next_tick_at_ = clock().now() + tick_period_;
  leader_seen_ns_ = clock_->now_ns();  // a node just started gets its time to find a leader
  started_ns_ = leader_seen_ns_;
  if (quiet_alone() && config_.report) config_.report(report_level::info, quiet_alone_reason());
  drive();
  return true;
}

bool raft_node::open_damaged(raft::durable_state recovered) {
  const std::string problem = storage_->problem();
  storage_problem_ = problem;
  if (status_) status_->storage_problem = problem;
  raft::durable_state kept = recovered;  // rare: only to start again if the loss is accepted
  replica_ = std::make_unique<raft::replica>(config_.raft, std::move(recovered), seed_);
  const raft::membership& members = replica_->config();
  const bool alone = members.voters.size() == 1 && members.is_voter(config_.raft.id);
  if (!alone) {
    if (config_.report)
      config_.report(report_level::error,
                     "its storage is damaged (" + problem +
                         "): it neither votes nor counts toward a quorum until it has caught up from its peers");
    return true;
  }
  if (!config_.accept_data_loss) {
    stop("its storage is damaged and it has no peer to repair from: " + problem +
         ". To serve what is left, start it again with --accept-data-loss");
    return false;
  }
  if (error e = storage_->accept_data_loss(); !e.ok()) {
    stop("cannot accept the loss: " + e.message());
    return false;
  }
  if (config_.report)
    config_.report(report_level::error, "accepted the loss of what its damaged storage lost (" + problem + ")");
  kept.needs_repair = false;
  replica_ = std::make_unique<raft::replica>(config_.raft, std::move(kept), seed_);
  return true;
}

caf::behavior raft_node::make_behavior() {
  if (!start()) return {};
  return {
      [this](const raft_packet& packet) {
        count_ticks_gone_by();
        raft::message m;
        if (raft::decode_message(packet.bytes, m)) {  // else: dropped, as garbage on a wire
          replica_->step(m);
          heard_from(m.from);
        }
        drive_soon();
      },
      [this](const log_synced& done) {
        count_ticks_gone_by();
        log_synced_up_to(done.sequence, done.failure);
      },
      [this](const raft_tick& timer) {
        if (timer.count != ticks_) return count_ticks_gone_by();  // an earlier timer took its place
        ring_tick();
      },
      [this](const propose_command& command) {
        count_ticks_gone_by();
        if (!seen_.first_time(command.client, command.request)) return;
        command_outcome outcome;
        outcome.request = command.request;
        outcome.code = code(error_code::unavailable);
        outcome.leader = replica_->leader();
        outcome.message = unavailable_reason();
        if (!outcome.message.empty()) {
          outcome.leader = raft::no_node;  // a silent leader is none to ask
          return answer(command.client, outcome);
        }
        if (replica_->current_role() != raft::role::leader && forward(command)) return;
        if (busy()) return answer(command.client, outcome);
        const raft::proposal p = replica_->propose(raft::payload::copy_of(command.command));
        if (!p.ok()) {
          if (p.refused == raft::refusal::too_large) outcome.code = code(error_code::invalid_operation);
          return answer(command.client, outcome);
        }
        pending_[p.index] = {command.client, command.request, p.term};
        drive_soon();
      },
      [this](drive_later) {
        drive_later_sent_ = false;
        drive();
      },
      [this](const read_command& read) {
        count_ticks_gone_by();
        if (read.key.size() > machine_.limits().max_key_bytes) return refuse_read(read, error_code::invalid_operation);
        // injected bug follower_local_reads: a follower answers Get/Has from its own, possibly stale, state.
        if (bugs::on(bugs::bug::follower_local_reads) && replica_->current_role() != raft::role::leader &&
            static_cast<read_kind>(read.kind) != read_kind::info)
          return serve_read(read);
        if (std::string why = unavailable_reason(); !why.empty())
          return refuse_read(read, error_code::unavailable, std::move(why));
        if (replica_->current_role() != raft::role::leader && forward(read)) return;
        if (busy()) return refuse_read(read, error_code::unavailable);
        const std::uint64_t id = next_read_id_++;
        if (!replica_->read(id).ok()) return refuse_read(read, error_code::unavailable);
        reads_[id] = {read, 0};
        drive_soon();
      },
      [this](const membership_command& command) -> membership_outcome {
        count_ticks_gone_by();
        membership_outcome outcome = change_membership(command);
        drive_soon();
        return outcome;
      },
      [this](health_query query) -> replica_health {
        count_ticks_gone_by();
        replica_health h = health();
        if (query.digests) {
          h.digested = true;
          h.engine_digest = machine_.engine().Digest();
          h.sessions_digest = machine_.sessions_digest();
        }
        return h;
      },
      [this](availability_check) {
        availability_check_armed_ = false;
        track_availability();
      },
      [this](const claimed_by_other_cluster& claim) { note_claim(claim); },
  };
}

membership_outcome raft_node::change_membership(const membership_command& command) {
  membership_outcome outcome;
  outcome.code = code(error_code::invalid_operation);
  std::optional<raft::change_kind> kind;
  switch (static_cast<membership_change>(command.change)) {
    case membership_change::add_server: kind = raft::change_kind::add_server; break;
    case membership_change::add_learner: kind = raft::change_kind::add_learner; break;
    case membership_change::remove: kind = raft::change_kind::remove; break;
  }
  if (!kind || command.node == raft::no_node) {
    outcome.refusal = "no such change";
    return outcome;
  }
  const raft::proposal p = replica_->change_membership(*kind, command.node);
  outcome.leader = p.leader;
  outcome.log_index = p.index;
  if (p.ok()) {
    outcome.code = code(error_code::success);
  } else {
    if (p.refused != raft::refusal::invalid_change) outcome.code = code(error_code::unavailable);
    outcome.refusal = raft::refusal_name(p.refused);
  }
  return outcome;
}

template <class Request>
bool raft_node::forward(Request request) {
  const raft::node_id leader = replica_->leader();
  if (request.forwarded || leader == raft::no_node || leader == config_.raft.id) return false;
  request.forwarded = true;
  network_->send(leader, caf::make_message(std::move(request)));
  return true;
}

caf::timespan raft_node::measure_tick_period() const {
  return caf::timespan{std::max<std::uint64_t>(1, clock_->scheduler_delay_ns(config_.tick_ns))};
}

std::uint64_t raft_node::ticks_until(caf::actor_clock::time_point t) const {
  return t < next_tick_at_ ? 0 : static_cast<std::uint64_t>((t - next_tick_at_) / tick_period_) + 1;
}

void raft_node::pass_ticks(std::uint64_t ticks) {
  if (ticks == 0) return;
  next_tick_at_ += tick_period_ * static_cast<caf::timespan::rep>(ticks);
  replica_->tick(static_cast<std::uint32_t>(std::min<std::uint64_t>(ticks, UINT32_MAX)));
}

void raft_node::count_ticks_gone_by() {
  std::uint64_t ticks = ticks_until(clock().now());
  if (ticks == 0) return;  // the common case: an input within the current tick
  if (const std::optional<std::uint32_t> due = replica_->ticks_until_due())
    ticks = std::min<std::uint64_t>(ticks, *due - 1);
  pass_ticks(ticks);  // short of the one due: the replica only counts
}

void raft_node::ring_tick() {
  pass_ticks(ticks_until(*tick_at_));
  tick_at_.reset();
  // A timer that rang late — the process was stalled — counts as one tick:
  // the ticks missed meanwhile are gone, as with a ticker that drops them.
  if (const caf::actor_clock::time_point now = clock().now(); next_tick_at_ <= now) next_tick_at_ = now + tick_period_;
  drive();
}

void raft_node::arm_tick() {
  const std::optional<std::uint32_t> due = replica_->ticks_until_due();
  if (!due) return;
  const auto ticks_after_next = static_cast<caf::timespan::rep>(*due - 1);
  if (tick_at_ && *tick_at_ <= next_tick_at_ + tick_period_ * ticks_after_next) return;
  // The clock's drift may have changed since the last timer: ticks from the
  // next one on run at the current rate.
  tick_period_ = measure_tick_period();
  tick_at_ = next_tick_at_ + tick_period_ * ticks_after_next;
  delayed_send(this, *tick_at_ - clock().now(), raft_tick{++ticks_});
}

void raft_node::log_synced_up_to(std::uint64_t sequence, const std::string& failure) {
  DKV_ASSERT(sequence <= written_, sequence, written_);  // a sync covers what was written before it began
  sync_pending_ = false;
  if (!failure.empty()) return stop("a sync of its log failed: " + failure);
  storage_->synced();
  replica_->persisted(sequence);
  if (written_ > sequence) start_log_sync();
  drive_soon();
}

void raft_node::start_log_sync() {
  sync_pending_ = true;
  // From the disk's thread (or the simulated disk's clock) to the node.
  auto tell = [node = address(), sequence = written_](error outcome) {
    if (const auto alive = caf::actor_cast<caf::actor>(node))
      caf::anon_send(alive, log_synced{sequence, outcome.ok() ? std::string() : outcome.message()});
  };
  files_->sync_in_background(storage_->files_to_sync(), std::move(tell));
}

void raft_node::drive_soon() {
  // Under load the mailbox holds many proposals, reads and replies at once.
  // Taking them all in before the replica's output is carried out turns
  // what would be a log write, a sync, an append per follower and a
  // heartbeat round per input into one of each for the lot (etcd's raft
  // batches the same way between two Ready calls). With nothing waiting,
  // the output goes out at once.
  if (mailbox().empty()) return drive();
  if (drive_later_sent_) return;
  drive_later_sent_ = true;
  send(this, drive_later{});
}

void raft_node::drive() {
  bool engine_changed = false;
  for (;;) {
    raft::ready work = replica_->take_ready();
    if (work.empty()) break;
    engine_changed = engine_changed || work.snapshot.has_value() || !work.committed.empty();
    carry_out(work);
    if (status_ && status_->stopped) return;
  }
  maybe_snapshot();
  arm_tick();
  publish();
  track_availability();
  // The engine's digest orders every key: worth computing only when entries
  // were applied or a snapshot loaded (start() takes the first one).
  if (engine_changed) observe_digests();
}

void raft_node::carry_out(raft::ready& work) {
  // The records now. A commit index alone is only written: it is synced with
  // the next records (ready.hpp).
  if (work.must_persist() || work.state)
    if (error e = storage_->write(work); !e.ok()) return stop("a write to its storage failed: " + e.message());
  if (work.must_persist()) {
    DKV_ASSERT(work.sequence > written_, work.sequence, written_);  // readies come in order
    // Until the disk has synced them the replica holds back whatever relies
    // on these records. A sync under way takes none of them: they wait for
    // the next one, started when it completes.
    written_ = work.sequence;
    if (!sync_pending_) start_log_sync();
  }
  if (!work.lost.empty()) {
    storage_problem_ = work.lost;
    if (status_) status_->storage_problem = work.lost;
    if (config_.report)
      config_.report(report_level::error,
                     "its storage was lost (" + work.lost +
                         "): it neither votes nor counts toward a quorum until it has caught up from its peers");
  }
  if (work.repaired) {
    if (error e = storage_->clear_damage(); !e.ok()) return stop("cannot clear its repair marker: " + e.message());
    if (config_.report)
      config_.report(report_level::info, "repaired its damaged storage: caught up to index " +
                                             std::to_string(replica_->commit_index()) +
                                             " from its leader, it votes and counts toward a quorum again");
  }
  // The replica holds back every message that needs these records durable:
  // what goes out now lets the followers write the leader's new entries
  // while the leader syncs them.
  for (const raft::message& m : work.messages) {
    raft::encode_message(m, buffer_);
    network_->send(m.to, caf::make_message(raft_packet{buffer_}));
  }
  if (work.snapshot) {
    // The replica installs only a snapshot past its commit index, so past what we applied.
    DKV_ASSERT(work.snapshot->meta.index > machine_.applied_index(), work.snapshot->meta.index,
               machine_.applied_index());
    if (error e = machine_.load(work.snapshot->data.view()); !e.ok())
      return stop("a snapshot from the leader does not load: " + e.message());
    last_snapshot_ = work.snapshot->meta.index;
    DKV_ASSERT(machine_.applied_index() == last_snapshot_, machine_.applied_index(), last_snapshot_);
    // Proposals the snapshot covers will not be applied here one by one:
    // forget_replaced_proposals, below, tells their clients.
  }
  for (const raft::entry& e : work.committed) apply(e);
  if (!replica_->is_leader()) forget_replaced_proposals();
  for (const raft::read_state& r : work.reads)
    if (auto it = reads_.find(r.id); it != reads_.end()) it->second.index = r.index;
  for (std::uint64_t id : work.failed_reads)
    if (auto it = reads_.find(id); it != reads_.end()) {
      refuse_read(it->second.read, error_code::unavailable);
      reads_.erase(it);
    }
  serve_reads();
}

void raft_node::serve_reads() {
  // A confirmed read is served once the state machine has caught up with
  // its read index: the state then reflects every write committed before it.
  for (auto it = reads_.begin(); it != reads_.end();) {
    const pending_read& r = it->second;
    if (r.index == 0 || machine_.applied_index() < r.index) {
      ++it;
      continue;
    }
    serve_read(r.read);
    it = reads_.erase(it);
  }
}

void raft_node::serve_read(const read_command& read) {
  read_outcome outcome;
  outcome.request = read.request;
  outcome.leader = replica_->leader();
  const kvdb& engine = machine_.engine();
  switch (static_cast<read_kind>(read.kind)) {
    case read_kind::info:
      outcome.info = engine.GetInfo();
      outcome.index = engine.WriteIdx();
      break;
    case read_kind::has: {
      const read_status status = engine.Has(read.key);
      outcome.found = status.found;
      outcome.index = status.index;
      break;
    }
    default: {
      const read_status status = engine.Get(read.key, outcome.value);
      outcome.found = status.found;
      outcome.index = status.index;
    }
  }
  network_->send(read.client, caf::make_message(std::move(outcome)));
}

void raft_node::refuse_read(const read_command& read, error_code code, std::string why) {
  read_outcome outcome;
  outcome.request = read.request;
  outcome.code = static_cast<std::uint8_t>(code);
  outcome.leader = why.empty() ? replica_->leader() : raft::no_node;  // a silent leader is none to ask
  outcome.message = std::move(why);
  network_->send(read.client, caf::make_message(std::move(outcome)));
}

void raft_node::apply(const raft::entry& e) {
  if (e.index <= machine_.applied_index()) return;  // covered by an installed snapshot
  // Committed entries come in order, none left out.
  DKV_ASSERT(e.index == machine_.applied_index() + 1, e.index, machine_.applied_index());
  if (config_.observe_state && status_) status_->applied_log.emplace_back(e.index, fingerprint(e));
  command_outcome outcome;
  if (e.kind == raft::entry_kind::command) {
    const replicated::apply_result result = machine_.apply(e.index, e.data.view());
    outcome.code = static_cast<std::uint8_t>(result.err.code());
    outcome.status = static_cast<std::uint8_t>(result.status);
    outcome.store_index = result.index;
    outcome.deleted = result.deleted;
    outcome.message = result.err.message();
    if (config_.observe_state && status_ && result.status == replicated::apply_status::applied && result.index != 0)
      observe_write(result.index, e);
  } else {
    machine_.skip(e.index);
  }
  const auto waiting = pending_.find(e.index);
  if (waiting == pending_.end()) return;
  // Applied at this index with another term: the proposal was lost (never applied).
  const pending_command p = waiting->second;
  pending_.erase(waiting);
  outcome.request = p.request;
  outcome.leader = replica_->leader();
  if (e.term == p.term)
    outcome.log_index = e.index;
  else
    outcome.code = code(error_code::unavailable);  // another leader's entry took the index
  answer(p.client, outcome);
}

void raft_node::lost_track(const pending_command& p, const std::string& why) {
  command_outcome lost;
  lost.request = p.request;
  lost.code = code(error_code::timeout);
  lost.leader = replica_->leader();
  lost.message = why;
  answer(p.client, lost);
}

void raft_node::forget_replaced_proposals() {
  // A new leader's entries replaced ours (or cut them off), or a snapshot
  // from the leader covers them: whether they made it is not known here, and
  // the index may not be committed for long in a quiet cluster. The client
  // hears so at once (in doubt: it asks again, and a session keeps a write
  // from applying twice), and the slot is freed.
  const raft::raft_log& log = replica_->log();
  for (auto it = pending_.begin(); it != pending_.end();) {
    const bool covered = it->first <= log.snapshot_index();  // installed: no one-by-one apply here
    if (!covered && log.term_at(it->first) == it->second.term) {
      ++it;
      continue;
    }
    lost_track(it->second, covered
                               ? "its log entry was replaced by a snapshot from the leader before it was applied here"
                               : "its log entry was replaced by another leader's before it was committed");
    it = pending_.erase(it);
  }
}

void raft_node::observe_write(std::uint64_t store_index, const raft::entry& e) {
  replicated::log_command command;
  if (replicated::decode_log_command(e.data.view(), command).ok())
    status_->applied_writes.emplace_back(store_index, fingerprint(command.write.command));
}

void raft_node::observe_digests() {
  if (!config_.observe_state || !status_) return;
  status_->engine_digest = machine_.engine().Digest();
  status_->sessions_digest = machine_.sessions_digest();
}

void raft_node::maybe_snapshot() {
  const raft::index_t applied = machine_.applied_index();
  if (applied < last_snapshot_ + config_.snapshot_every) return;
  if (error e = machine_.save(buffer_); !e.ok()) return stop("cannot snapshot its state machine: " + e.message());
  auto taken = replica_->compact(applied, raft::payload::copy_of(buffer_));
  if (!taken) return;
  if (error e = storage_->save_snapshot(*taken); !e.ok()) return stop("cannot store a snapshot: " + e.message());
  last_snapshot_ = applied;
}

void raft_node::answer(net_address client, const command_outcome& outcome) {
  network_->send(client, caf::make_message(outcome));
}

void raft_node::stop(std::string why) {
  if (status_) {
    status_->stopped = true;
    status_->stop_reason = std::move(why);
  }
  quit();
}

void raft_node::publish() {
  if (!status_ || !replica_) return;
  const bool repairing = replica_->repairing();
  if (config_.observe_state) {
    if (replica_->current_role() == raft::role::leader &&
        (status_->led_terms.empty() || status_->led_terms.back() != replica_->term()))
      status_->led_terms.push_back(replica_->term());
    if (repairing && !status_->repairing) ++status_->repairs;
  }
  status_->role = replica_->current_role();
  status_->term = replica_->term();
  status_->leader = replica_->leader();
  status_->commit = replica_->commit_index();
  status_->applied = machine_.applied_index();
  status_->repairing = repairing;
  status_->config = replica_->config();
  status_->config_committed = replica_->config_index() <= replica_->commit_index();
}

std::string raft_node::member_name(raft::node_id id) const {
  return id >= 1 && id <= config_.names.size() ? config_.names[id - 1] : "node " + std::to_string(id);
}

void raft_node::heard_from(raft::node_id from) {
  if (config_.unavailable_after_ticks == 0) return;
  const std::uint64_t now = clock_->now_ns();
  if (replica_->config().is_voter(from)) heard_ns_[from] = now;
  if (from == replica_->leader()) leader_seen_ns_ = now;
}

void raft_node::note_claim(const claimed_by_other_cluster& claim) {
  // injected bug lone_member_serves: the claim is not listened to.
  if (bugs::on(bugs::bug::lone_member_serves)) return;
  if (!alone_in_members() || !claimed_.empty()) return;
  // Alone, it commits whatever it is asked: with a cluster that counts it as
  // one of its members, the shard's data would be in two places, each
  // acknowledged. Which list is right it cannot know; it stops answering.
  claimed_ = "this replica is alone in its member list, but a member of another cluster that lists it reached it (" +
             claim.detail +
             "); answering both would split the shard's data in two, so it refuses its clients until it is started "
             "again with the cluster's list";
  if (config_.report) config_.report(report_level::error, claimed_);
  unavailable_ = true;  // said: no WARN from track_availability
}

bool raft_node::alone_in_members() const {
  const raft::membership& members = replica_->config();
  return members.voters.size() == 1 && members.is_voter(config_.raft.id) && members.learners.empty();
}

bool raft_node::quiet_alone() const {
  return config_.alone_quiet_ns != 0 && started_empty_ && clock_->now_ns() < started_ns_ + config_.alone_quiet_ns &&
         alone_in_members();
}

std::string raft_node::quiet_alone_reason() const {
  return "this replica is alone in its member list, on empty storage, and serves no client for its first " +
         duration_text(config_.alone_quiet_ns) + ", so that a cluster that lists it can reach it first";
}

std::string raft_node::unavailable_reason() const {
  if (!claimed_.empty()) return claimed_;
  if (quiet_alone()) return quiet_alone_reason();
  if (config_.unavailable_after_ticks == 0 || replica_->is_leader()) return {};
  const std::uint64_t now = clock_->now_ns();
  const std::uint64_t after = std::uint64_t{config_.unavailable_after_ticks} * config_.tick_ns;
  if (now < leader_seen_ns_ + after) return {};
  const std::uint64_t silent = now - leader_seen_ns_;
  const std::uint64_t election = std::uint64_t{config_.raft.election_ticks} * config_.tick_ns;
  const std::string since = duration_text(silent) + " (" + std::to_string(silent / election) + " election timeouts)";
  std::string why = replica_->leader() == raft::no_node ? "no leader known for " + since
                                                        : "no live leader: " + member_name(replica_->leader()) +
                                                              ", whom it follows, not heard from for " + since;
  if (replica_->repairing())
    why += "; this replica is repairing damaged storage (" + storage_problem_ +
           ") and waits for a leader to repair from, neither voting nor counting toward a quorum until then";
  else if (replica_->introducing())
    why +=
        "; this replica has not yet been recorded by every other voter, and neither votes nor counts toward a "
        "quorum until it has";
  else
    why += "; this replica is a " + std::string(raft::role_name(replica_->current_role())) + " in term " +
           std::to_string(replica_->term());
  // Who could make a quorum with it: the voters it heard from lately.
  const raft::membership& members = replica_->config();
  std::size_t heard = 0;
  for (raft::node_id voter : members.voters) {
    const auto at = heard_ns_.find(voter);
    if (voter == config_.raft.id || (at != heard_ns_.end() && now < at->second + after)) ++heard;
  }
  why += "; it heard from " + std::to_string(heard) + " of " + std::to_string(members.voters.size()) + " voters" +
         (members.is_voter(config_.raft.id) ? ", itself included," : "") + " in the last " + duration_text(after);
  return why;
}

void raft_node::track_availability() {
  if (config_.unavailable_after_ticks == 0) return;
  const std::uint64_t now = clock_->now_ns();
  if (replica_->is_leader()) leader_seen_ns_ = now;
  if (quiet_alone()) return;  // said at its start
  const std::string why = unavailable_reason();
  if (const bool unavailable = !why.empty(); unavailable != unavailable_) {  // it changed: say so once
    unavailable_ = unavailable;
    if (config_.report && unavailable_)
      config_.report(report_level::warn, "unavailable: " + why + "; clients are refused until it knows a leader");
    else if (config_.report)
      config_.report(
          report_level::info,
          "available again: " + (replica_->is_leader() ? "it leads" : member_name(replica_->leader()) + " leads") +
              " in term " + std::to_string(replica_->term()));
  }
  // Nothing may happen for a while (a replica that may not campaign ticks
  // only for inputs): a check when the time without a leader would run out.
  if (unavailable_ || availability_check_armed_) return;
  availability_check_armed_ = true;
  const std::uint64_t due = leader_seen_ns_ + std::uint64_t{config_.unavailable_after_ticks} * config_.tick_ns;
  const std::uint64_t wait = clock_->scheduler_delay_ns(due > now ? due - now : 1);
  delayed_send(this, std::chrono::nanoseconds(std::max<std::uint64_t>(1, wait)), availability_check{});
}

replica_health raft_node::health() const {
  replica_health h;
  h.role = static_cast<std::uint8_t>(replica_->current_role());
  h.term = replica_->term();
  h.leader = replica_->leader();
  h.commit = replica_->commit_index();
  h.applied = machine_.applied_index();
  h.repairing = replica_->repairing();
  if (h.repairing) h.storage_problem = storage_problem_;
  h.unavailable = unavailable_reason();
  return h;
}

}  // namespace dkv::actors
