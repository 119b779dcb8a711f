#pragma once
// A dstore node: the Raft core (store/raft) in a CAF actor, with its storage
// on a file interface (wal_storage) and the replicated state machine (engine
// + client sessions) fed with committed entries. The same actor runs in the
// simulator and for real; it reaches the world only through its seams.
//
// Every input — a Raft packet, its clock's tick, a client's command — goes
// to the replica, then the node carries out the ready: write, send, install
// a snapshot, apply, answer; and once its disk has synced the writes (at
// once on POSIX, after a seeded latency on the simulated disk), acknowledge
// them to the replica, which releases what waited for them. The node goes on
// meanwhile: the disk syncs in the background (file_system's
// sync_in_background: on a thread of the POSIX file system's own, or on the
// simulated disk's clock) and the node hears log_synced. A failed write or
// fsync stops the node (durability is unknown; no retry). Proposals and
// reads waiting for their outcome are bounded: beyond that the answer is
// Unavailable, before anything is appended.
//
// Membership changes (membership_command) come from an operator, not a
// client, and only the leader takes them: they are not forwarded.
//
// Any node takes any client request: a follower forwards it (once) to the
// leader it knows, who answers the client directly. A request the node has
// already taken — a copy the network duplicated — is ignored, so that a
// refusal of an attempt means no copy of it was appended (the client's
// Unavailable relies on it).
//
// A node that has known no live leader for unavailable_after_ticks refuses
// requests at once with a final Unavailable that says why (no leader for
// how long, how many voters it hears, its own damaged storage): a client
// hears the reason instead of waiting out its deadline.

#include <caf/event_based_actor.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/messages.hpp"
#include "actors/raft/seen_requests.hpp"
#include "actors/report.hpp"
#include "actors/seams.hpp"
#include "store/raft/replica.hpp"
#include "store/raft/wal_storage.hpp"
#include "store/replicated/state_machine.hpp"
#include "store/storage/file_system.hpp"

namespace dkv::actors {

struct raft_node_config {
  raft::options raft;
  std::uint64_t tick_ns = 10'000'000;     // the node's own clock per Raft tick
  std::uint64_t snapshot_every = 10'000;  // applied entries between snapshots
  std::size_t max_pending = 1024;         // proposals awaiting an outcome
  // For the simulator's end-of-run checks: keep every applied entry's
  // fingerprint and the engine's digest in the status (costly: tests only).
  bool observe_state = false;
  dkv::storage::wal_options wal;
  replicated::state_machine_options machine;
  // A node alone (the only voter) whose storage is damaged has no peer to
  // repair from: it refuses to start unless an operator accepts the loss.
  bool accept_data_loss = false;
  // After this many ticks without a live leader (none known, or the one it
  // follows silent), the node refuses client requests at once as final
  // Unavailable, saying why, and reports it. 0: never — it forwards or
  // refuses as it can, and clients try again until their deadline (the
  // simulator's runs).
  std::uint32_t unavailable_after_ticks = 0;
  // A node alone in its member list that starts on empty storage serves no
  // client for this long (on its own clock), refusing as final Unavailable:
  // started alone by mistake in a lost member's place, it must hear from the
  // cluster that lists it (note_claim) before it acknowledges what that
  // cluster never sees, and real peers dial a member that was down only
  // after their reconnect backoff. (With its old storage it is refused at
  // start: the storage names its cluster.) 0: at once (the simulator's peers
  // reach it within a message's latency).
  std::uint64_t alone_quiet_ns = 0;
  // Names of the nodes by id - 1, for what the node says (unset: "node N").
  std::vector<std::string> names;
  // Where the node says what an operator must know: damaged storage found
  // at start (error) and repaired (info); with unavailable_after_ticks, no
  // live leader for that long (warn) and a leader again (info). Unset:
  // nowhere. Called on the node's own thread.
  report_sink report;
};

// What a node shows its observers (the simulator's checks, tests). Written
// whenever the node carries out its replica's output (after an input, or
// after a burst of them); the simulation is single-threaded, so a driver may read
// it between steps.
struct raft_node_status {
  raft::role role = raft::role::follower;
  raft::term_t term = 0;
  raft::node_id leader = raft::no_node;
  raft::index_t commit = 0;
  raft::index_t applied = 0;
  bool repairing = false;
  std::string storage_problem;  // the damage its storage was found with at start, if any
  // The latest configuration in its log (who votes, who only listens), and
  // whether that entry is committed (a change under way is not).
  raft::membership config;
  bool config_committed = true;
  std::uint64_t engine_digest = 0;    // with observe_state
  std::uint64_t sessions_digest = 0;  // with observe_state: the session table
  // With observe_state: every entry applied, as (log index, fingerprint),
  // and every store write applied, as (store index, command fingerprint).
  std::vector<std::pair<raft::index_t, std::uint64_t>> applied_log;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> applied_writes;
  // With observe_state: every term in which the node was leader, and how
  // often it found its storage damaged (and began a repair from its peers).
  std::vector<raft::term_t> led_terms;
  std::uint64_t repairs = 0;
  bool stopped = false;
  std::string stop_reason;
};

class raft_node : public caf::event_based_actor {
 public:
  raft_node(caf::actor_config& cfg, raft_node_config config, dkv::storage::file_system* files,
            std::shared_ptr<transport> network, std::shared_ptr<local_clock> clock, std::uint64_t seed,
            raft_node_status* status);

  caf::behavior make_behavior() override;

 private:
  struct pending_command {
    net_address client;
    std::uint64_t request;
    raft::term_t term;
  };
  struct pending_read {
    read_command read;
    raft::index_t index = 0;  // 0: not confirmed yet; else serve once applied
  };

  bool start();
  // Starts the replica on storage found damaged: repairing from its peers,
  // or — alone — refusing, or accepting the loss if told to.
  bool open_damaged(raft::durable_state recovered);
  // Proposals and reads awaiting an answer fill the bound: refuse more.
  bool busy() const noexcept { return pending_.size() + reads_.size() >= config_.max_pending; }
  // Carries out the replica's output (drive) now if no other input waits;
  // else after those waiting, so that their output goes out together.
  void drive_soon();
  void drive();
  void carry_out(raft::ready& work);
  // The log is durable up to ready `sequence`, or its sync failed.
  void log_synced_up_to(std::uint64_t sequence, const std::string& failure);
  void start_log_sync();  // of every record written so far
  void apply(const raft::entry& e);
  void observe_write(std::uint64_t store_index, const raft::entry& e);
  // The digests of engine and sessions, for observers (observe_state).
  void observe_digests();
  void maybe_snapshot();
  void answer(net_address client, const command_outcome& outcome);
  void serve_reads();
  void serve_read(const read_command& read);  // from the state machine as it is now
  // `why`: a final refusal's message (see command_outcome).
  void refuse_read(const read_command& read, error_code code, std::string why = {});
  membership_outcome change_membership(const membership_command& command);
  // Sends a request it cannot take to the leader; false if it knows none
  // or the request was forwarded already.
  template <class Request>
  bool forward(Request request);
  // The node's clock ticks every tick_ns, but a timer is armed only for the
  // tick at which the replica will act (ticks_until_due): an idle follower's
  // fires once per election timeout, not once per tick. Before any other
  // input the replica counts the ticks gone by, short of that one, which
  // acts when its timer rings — at the timer's place in the mailbox, after
  // the messages that came before it, as if every tick had been a timer.
  caf::timespan measure_tick_period() const;                        // one tick of the node's clock on the scheduler's
  std::uint64_t ticks_until(caf::actor_clock::time_point t) const;  // from next_tick_at_, t's own included
  void pass_ticks(std::uint64_t ticks);
  void count_ticks_gone_by();
  void ring_tick();
  void arm_tick();  // for the next tick due, unless an earlier timer is armed
  void stop(std::string why);
  void publish();
  // Availability (unavailable_after_ticks). Notes a message from `from`:
  // a voter heard, and the leader alive if it is the one followed.
  void heard_from(raft::node_id from);
  // Whether the node has been without a live leader for too long, and why
  // ("" if not): the message of its final refusals.
  std::string unavailable_reason() const;
  bool alone_in_members() const;  // its member list names only itself, a voter (no learner either)
  bool quiet_alone() const;       // alone in its member list, started empty, within alone_quiet_ns of its start
  std::string quiet_alone_reason() const;
  // Tells a proposer that this node lost track of its proposal (Timeout
  // without a log index): the client asks again at once, in doubt.
  void lost_track(const pending_command& p, const std::string& why);
  // After a ready, not leading: the proposals whose entries are no longer in
  // the log as proposed (replaced, or covered by a snapshot installed).
  void forget_replaced_proposals();
  // Another cluster lists this node (claimed_by_other_cluster): alone in its
  // own configuration, it refuses its clients from then on.
  void note_claim(const claimed_by_other_cluster& claim);
  // Reports the node becoming unavailable or available again, and arms a
  // check for when it would become unavailable if nothing is heard.
  void track_availability();
  replica_health health() const;
  std::string member_name(raft::node_id id) const;  // (not name(): that is the actor's)

  raft_node_config config_;
  dkv::storage::file_system* files_;
  std::shared_ptr<transport> network_;
  std::shared_ptr<local_clock> clock_;
  std::uint64_t seed_;
  raft_node_status* status_;
  std::string storage_problem_;  // what it found damaged or lost, for its reports while it repairs
  std::string claimed_;          // why it refuses its clients, once another cluster claimed it

  std::unique_ptr<raft::wal_storage> storage_;
  std::unique_ptr<raft::replica> replica_;
  replicated::state_machine machine_;
  std::map<raft::index_t, pending_command> pending_;  // by log index
  std::map<std::uint64_t, pending_read> reads_;       // by our read id
  std::uint64_t next_read_id_ = 1;
  seen_requests seen_;
  raft::index_t last_snapshot_ = 0;
  // The log's sync: at most one under way. Records written meanwhile wait
  // for the next one, which covers them all (group commit).
  bool sync_pending_ = false;
  std::uint64_t written_ = 0;      // the latest ready whose records are written
  bool drive_later_sent_ = false;  // a drive_later waits in the mailbox
  caf::timespan tick_period_{};
  caf::actor_clock::time_point next_tick_at_{};          // the next tick not yet passed to the replica
  std::optional<caf::actor_clock::time_point> tick_at_;  // when the armed timer rings, if one is
  std::uint64_t ticks_ = 0;                              // timers armed: the latest one's number
  std::string buffer_;
  // With unavailable_after_ticks, on the node's clock: when it last knew a
  // live leader (it led, or heard from the one it follows; at first its
  // start) and last heard from each voter; whether it said it is
  // unavailable; whether an availability_check is on its way.
  std::uint64_t leader_seen_ns_ = 0;
  std::map<raft::node_id, std::uint64_t> heard_ns_;
  bool unavailable_ = false;
  std::uint64_t started_ns_ = 0;  // on the node's clock
  bool started_empty_ = false;    // nothing recovered: no snapshot, no entry, term 0
  bool availability_check_armed_ = false;
};

}  // namespace dkv::actors
