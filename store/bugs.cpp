#include "store/bugs.hpp"

#include <array>

namespace dkv::bugs {

namespace {

constexpr std::array<bug_info, static_cast<std::size_t>(bug::count_)> table{{
    {bug::follower_local_reads, "follower-local-reads",
     "a follower answers Get and Has from its own, possibly stale, state machine instead of forwarding them",
     "actors/raft/raft_node.cpp: raft_node::make_behavior (read_command)"},
    {bug::leader_unconfirmed_reads, "leader-unconfirmed-reads",
     "a leader serves a read at its commit index at once, without a read-index round: a deposed leader answers stale",
     "store/raft/replica.cpp: replica::read"},
    {bug::figure8_commit, "figure8-commit",
     "the leader commits an entry of an earlier term once a majority holds it (the Raft paper's Figure 8)",
     "store/raft/replication.cpp: replica::maybe_commit"},
    {bug::vote_before_durable, "vote-before-durable",
     "a granted vote is sent before the term and vote that promise it are on disk",
     "store/raft/replica.cpp: replica::handle_vote_request"},
    {bug::ack_before_durable, "ack-before-durable",
     "log entries are acknowledged (and so clients answered) before they are synced: the log is never synced",
     "actors/raft/raft_node.cpp: raft_node::start"},
    {bug::no_session_dedup, "no-session-dedup",
     "a retried (session, sequence) write is applied again instead of answered from the session table",
     "store/replicated/state_machine.cpp: state_machine::apply_write"},
    {bug::raw_index_clock, "raw-index-clock",
     "the store's write index follows the Raft log index instead of counting applied store writes",
     "store/replicated/state_machine.cpp: state_machine::apply_write"},
    {bug::snapshot_drops_ttl, "snapshot-drops-ttl",
     "the engine's snapshot writes entries without their expiry and deletion deadlines",
     "store/engine/snapshot_codec.cpp: put_entry_header"},
    {bug::wal_accepts_torn, "wal-accepts-torn",
     "WAL recovery keeps a torn or checksum-failing tail record (and the bytes after it) instead of cutting it",
     "store/storage/wal.cpp: scan_segment"},
    {bug::no_prevote_checkquorum, "no-prevote-checkquorum",
     "the replica runs without pre-vote and check-quorum (and so without the leader lease), whatever its options say",
     "store/raft/replica.cpp: replica::replica"},
    {bug::apply_before_commit, "apply-before-commit",
     "the replica hands entries to the state machine once they are durable, not once they are committed: "
     "a write a later leader overwrites has already taken effect",
     "store/raft/replica.cpp: replica::take_ready"},
    {bug::amnesiac_votes, "amnesiac-votes",
     "a member that comes back with its storage lost votes and counts toward quorums at once, without first "
     "learning from its peers that it forgot: with one member that missed the latest writes it elects a leader "
     "that never had them",
     "store/raft/replica.cpp: replica::note_introduced"},
    {bug::unchecked_promise, "unchecked-promise",
     "a member whose log was cut short of what it had promised (synced records gone, a segment missing) does "
     "not compare it with its promise: it votes and counts toward quorums as if its log were whole, and with "
     "one member that missed the latest writes it elects a leader that never had them",
     "store/raft/wal_storage.cpp: wal_storage::check_promise"},
    {bug::lone_member_serves, "lone-member-serves",
     "a member started with a member list naming only itself goes on answering its clients after a member of "
     "the cluster that lists it has reached it: it acknowledges writes the cluster never sees, a split brain",
     "actors/raft/raft_node.cpp: raft_node::note_claim"},
}};

constexpr bool in_enum_order() {
  for (std::size_t i = 0; i < table.size(); ++i)
    if (static_cast<std::size_t>(table[i].id) != i) return false;
  return true;
}
static_assert(in_enum_order(), "the catalogue lists every bug once, in enum order");

}  // namespace

std::span<const bug_info> catalogue() noexcept { return table; }

const bug_info& info(bug b) noexcept { return table[static_cast<std::size_t>(b)]; }

std::optional<bug> find(std::string_view name) noexcept {
  for (const bug_info& b : table)
    if (b.name == name) return b.id;
  return std::nullopt;
}

std::vector<std::string_view> names(bug_set set) {
  std::vector<std::string_view> out;
  for (const bug_info& b : table)
    if ((set & bit(b.id)) != 0) out.push_back(b.name);
  return out;
}

}  // namespace dkv::bugs
