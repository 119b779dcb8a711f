#pragma once
// One Raft replica as a pure state machine (docs/design.md principle 1): no
// threads, no clock, no I/O. Inputs — tick(), step(message), propose(),
// read(), change_membership(), transfer_leadership(), persisted(),
// compact() — change its state; take_ready() hands back what must happen
// next (ready.hpp). Time is ticks; randomness comes from the seed given.
//
// Durability: the replica never lets a message out that promises more than
// the disk holds (a vote, an append acknowledgement, a snapshot receipt):
// such messages wait until persisted() covers the state they rely on. A
// leader sends appends before its own write completes (thesis §10.2.1) but
// counts itself toward a commit only for entries it has persisted, and a
// candidate counts its own vote only once it is durable.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/raft/membership.hpp"
#include "store/raft/message.hpp"
#include "store/raft/options.hpp"
#include "store/raft/progress.hpp"
#include "store/raft/raft_log.hpp"
#include "store/raft/ready.hpp"
#include "store/raft/storage.hpp"
#include "store/rng.hpp"

namespace dkv::raft {

enum class role : std::uint8_t { follower, pre_candidate, candidate, leader };
std::string_view role_name(role r) noexcept;

// Why a request was turned down. Every refusal happens before anything is
// appended: the request certainly never takes effect.
enum class refusal : std::uint8_t {
  none,
  not_leader,          // `leader` says whom to ask (no_node: nobody known)
  transferring,        // leadership is moving; ask again soon
  too_large,           // the payload exceeds options::max_payload_bytes
  not_ready,           // a new leader has not committed an entry of its term yet
  change_in_progress,  // one membership change at a time
  invalid_change,      // adding a member, removing a stranger or the last voter
  unsafe_change,       // the new configuration would lack a quorum of healthy voters
};
std::string_view refusal_name(refusal r) noexcept;

struct proposal {
  refusal refused = refusal::none;
  node_id leader = no_node;  // the known leader, for redirecting
  index_t index = 0;         // where the (last) entry went
  term_t term = 0;           // ... in this term: applied at index with another term = lost
  bool ok() const noexcept { return refused == refusal::none; }
};

class replica {
 public:
  // `recovered` is what the storage kept (empty for a brand-new node).
  replica(options opts, durable_state recovered, std::uint64_t seed);

  // Inputs.
  // `ticks` (at least 1) of the shell's clock have passed. The replica acts
  // at most once per call — campaigns, beats, checks its quorum — so a shell
  // that skipped ticks (see ticks_until_due) or could not run for a while (a
  // stalled process) catches up in one step, as a node whose deadlines all
  // fired at once.
  void tick(std::uint32_t ticks = 1);
  void step(const message& m);
  proposal propose(payload data);
  proposal propose_batch(std::span<const payload> batch);
  proposal change_membership(change_kind kind, node_id id);
  // Asks for a linearizable read; ready.reads or ready.failed_reads answers.
  proposal read(std::uint64_t request_id);
  proposal transfer_leadership(node_id target);
  // Starts an election now (as if the election timeout had fired).
  void campaign();

  // Outputs.
  // In how many ticks a tick would make the replica act, given no other
  // input; nullopt when no tick can (a follower that may not campaign). The
  // ticks before it change nothing but counters, so a shell may skip them
  // and pass them to tick() later: a follower hearing its leader arms a
  // timer once per election timeout, not once per tick.
  std::optional<std::uint32_t> ticks_until_due() const;
  ready take_ready();
  // Everything in the readies up to `sequence` is durable.
  void persisted(std::uint64_t sequence);
  // The shell's state machine snapshot at `index` (<= what it has applied):
  // the log up to it is dropped, and followers that need it get `data`.
  // Returns the snapshot to store (nothing when index is not usable).
  std::optional<snapshot> compact(index_t index, payload data);

  // Observers.
  node_id id() const noexcept { return opts_.id; }
  role current_role() const noexcept { return role_; }
  bool is_leader() const noexcept { return role_ == role::leader; }
  term_t term() const noexcept { return term_; }
  node_id vote() const noexcept { return vote_; }
  node_id leader() const noexcept { return leader_; }
  index_t commit_index() const noexcept { return commit_; }
  index_t applied_index() const noexcept { return applied_; }
  index_t durable_index() const noexcept { return durable_last_; }
  const raft_log& log() const noexcept { return log_; }
  const membership& config() const noexcept { return config_; }
  // Where the latest configuration entry is (0: the founders' or a snapshot's).
  index_t config_index() const noexcept { return config_index_; }
  const progress* peer(node_id id) const noexcept;
  node_id transfer_target() const noexcept { return transfer_target_; }
  // Restarted on damaged storage and not yet caught up from a leader: it
  // neither votes nor stands, and leaders do not count it toward a quorum.
  bool repairing() const noexcept { return repairing_; }
  // Who this member is and whom it has met (identity.hpp). Until every other
  // voter has recorded its incarnation it is `introducing`: it neither votes
  // nor stands, and leaders do not count it toward a quorum.
  const raft::identity& identity() const noexcept { return identity_; }
  bool introducing() const noexcept { return !identity_.introduced; }
  // Messages step() ignored because they were malformed.
  std::uint64_t malformed_messages() const noexcept { return malformed_messages_; }

 private:
  // role changes
  void become_follower(term_t term, node_id leader);
  void become_pre_candidate();
  void become_candidate(bool transfer);
  void become_leader();
  // Asks every other voter for its (pre-)vote at `term`, with our last entry.
  void request_votes(rpc_type type, term_t term, bool transfer);
  void reset_election_timer();
  bool promotable() const noexcept { return config_.is_voter(opts_.id); }
  bool may_campaign() const;
  bool in_leader_lease() const noexcept;

  // elections
  void handle_vote_request(const message& m);
  void handle_vote_reply(const message& m);
  void tally_votes();

  // replication: follower side
  void handle_append(const message& m);
  void handle_heartbeat(const message& m);
  void handle_snapshot_chunk(const message& m);
  void install_snapshot(snapshot_meta meta, std::string&& data);
  // replication: leader side
  void handle_append_reply(const message& m);
  void handle_heartbeat_reply(const message& m);
  void handle_snapshot_reply(const message& m);
  void send_appends(progress& p);
  bool send_append(progress& p, bool allow_empty);
  void send_snapshot_chunk(progress& p);
  void send_heartbeat(const progress& p, std::uint64_t context);
  void broadcast_heartbeat(std::uint64_t context);
  progress* heard_from(node_id id);  // find_peer(), noting that it answered
  void maybe_commit();
  // Raises the commit index to `index`, which the log must hold (etcd's
  // commitTo: a commit past the end means a lost or truncated log).
  void commit_to(index_t index);

  // log and membership
  index_t append_entry(entry_kind kind, payload data);
  void on_truncated(index_t index);
  // `introduce`: introduce ourselves at once to voters we have not met.
  void adopt_config(const entry& e, bool introduce = true);
  void refresh_config();
  void sync_peers();
  membership config_at(index_t index) const;
  void maybe_promote_learners();
  // Whether the voters of `next` that are alive and not repairing form a quorum of it.
  bool healthy_quorum(const membership& next) const;
  void note_repair_epoch(progress& p, const message& m);

  // reads
  void open_read(std::uint64_t request_id);
  void ask_read_round();
  void start_waiting_reads();
  void release_confirmed_reads();
  void fail_reads();

  // What holds between any two inputs: asserted as each ready goes out.
  void check_invariants() const;

  // messages
  void send(message m);
  void send_when_durable(message m);
  void deliver(message m);
  bool durable_work_pending() const noexcept;
  message make(rpc_type type, node_id to) const;
  // A leader's message to a follower: carries its last index and echoes the
  // follower's repair name.
  message to_follower(rpc_type type, const progress& p) const;
  progress* find_peer(node_id id) noexcept;
  proposal refuse(refusal why) const { return {why, leader_, 0, 0}; }

  options opts_;
  rng rng_;

  role role_ = role::follower;
  term_t term_ = 0;
  node_id vote_ = no_node;
  node_id leader_ = no_node;
  raft_log log_;
  index_t commit_ = 0;
  index_t applied_ = 0;

  membership base_config_;  // the snapshot's (or the founders')
  membership config_;       // the latest in the log
  index_t config_index_ = 0;

  std::uint32_t election_elapsed_ = 0;
  std::uint32_t heartbeat_elapsed_ = 0;
  std::uint32_t election_timeout_ = 0;
  std::vector<std::pair<node_id, bool>> votes_;

  // leader
  std::vector<progress> peers_;
  std::vector<index_t> match_scratch_;
  bool committed_in_term_ = false;
  node_id transfer_target_ = no_node;
  std::uint32_t transfer_elapsed_ = 0;
  bool timeout_now_sent_ = false;
  std::vector<node_id> to_promote_;

  // reads: waiting for the first commit of the term, then for a quorum to
  // confirm the round they joined
  struct pending_read {
    std::uint64_t id;
    index_t index;
    std::uint64_t round;
  };
  std::vector<std::uint64_t> reads_before_commit_;
  std::vector<pending_read> reads_;
  std::uint64_t read_round_ = 0;       // the latest round opened
  std::uint64_t read_round_sent_ = 0;  // the latest round asked
  std::uint64_t replies_heard_ = 0;    // replies from followers so far (progress::last_heard)

  // snapshots
  std::optional<snapshot> latest_snapshot_;
  snapshot_meta incoming_meta_;
  term_t incoming_term_ = 0;
  std::string incoming_data_;

  // persistence
  struct handed_out {
    std::uint64_t sequence;
    index_t last_index;
    term_t last_term;
  };
  static bool supersedes(const message& later, const message& earlier) noexcept;
  struct held_message {
    std::uint64_t needs_sequence;
    message m;
  };
  index_t persist_from_ = 1;  // entries from here on are not yet handed out
  hard_state handed_state_;   // the latest hard state handed out
  std::optional<snapshot> snapshot_to_persist_;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t persisted_sequence_ = 0;
  std::vector<handed_out> unacknowledged_;
  index_t durable_last_ = 0;
  std::vector<held_message> held_;

  std::uint64_t malformed_messages_ = 0;

  // repair after damaged storage: caught up once the log is durable up to the
  // first commit index a leader sent
  bool repairing_ = false;
  std::uint64_t repair_epoch_ = 0;  // names this repair (random, nonzero)
  index_t repair_target_ = 0;
  bool repaired_ = false;
  void check_repaired();
  void note_repair_target(const message& m);
  bool counts(const progress& p) const { return config_.is_voter(p.id) && p.repair_epoch == 0; }
  void enter_repair(std::string why);

  // introductions (identity.hpp)
  raft::identity identity_;
  bool identity_changed_ = false;  // to persist with the next ready
  std::string lost_;               // why storage was found lost, for the next ready
  std::uint32_t introduce_elapsed_ = 0;
  bool has_strangers() const;  // voters that have not recorded our incarnation
  void introduce_to_strangers();
  void handle_introduce(const message& m);
  void handle_introduce_reply(const message& m);
  void note_introduced();

  // outputs gathered for the next ready
  std::vector<message> outbox_;
  std::vector<read_state> reads_ready_;
  std::vector<std::uint64_t> reads_failed_;
};

}  // namespace dkv::raft
