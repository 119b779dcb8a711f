#pragma once
// The injected-bug catalogue: known distributed-systems bugs, compiled in and
// off by default, each a few lines at the exact place the real bug would be
// (guarded by `bugs::on(bug::…)`). A simulated run switches some on by name
// (`dkv-sim --bug NAME`) to prove that its checks catch them.
//
// The switches are process-wide, like FoundationDB's BUGGIFY: a run sets
// them before it builds its cluster and clears them when it ends (scoped), so
// a run's outcome is still a function of its seed and its bug set alone. The
// checker's worker threads never read them.

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace dkv::bugs {

enum class bug : std::uint8_t {
  follower_local_reads,      // a follower serves reads from its own, possibly stale, state
  leader_unconfirmed_reads,  // a leader serves reads without confirming it still leads
  figure8_commit,            // entries of an earlier term committed by counting replicas
  vote_before_durable,       // a vote is granted before it is durable
  ack_before_durable,        // log entries acknowledged (so clients answered) before they are durable
  no_session_dedup,          // a retried write is applied again
  raw_index_clock,           // the store's logical clock advances by the Raft index, not by applied writes
  snapshot_drops_ttl,        // snapshots lose keys' expiry and deletion deadlines
  wal_accepts_torn,          // WAL recovery accepts a torn record instead of cutting it
  no_prevote_checkquorum,    // pre-vote and check-quorum off
  apply_before_commit,       // entries are applied once durable, before they are committed
  amnesiac_votes,            // a member whose storage was lost votes at once, as if it remembered
  unchecked_promise,         // a member whose log ends before what it promised votes as if it were whole
  lone_member_serves,        // a member alone in its list goes on serving after another cluster claims it
  count_
};

struct bug_info {
  bug id;
  std::string_view name;     // as `--bug` takes it: "follower-local-reads"
  std::string_view summary;  // one line
  std::string_view site;     // where it lives: "store/raft/replication.cpp: advance_commit"
};

// Every bug, in enum order.
std::span<const bug_info> catalogue() noexcept;
const bug_info& info(bug b) noexcept;
std::optional<bug> find(std::string_view name) noexcept;

using bug_set = std::uint32_t;  // one bit per bug
static_assert(static_cast<unsigned>(bug::count_) <= 32);
constexpr bug_set bit(bug b) noexcept { return bug_set{1} << static_cast<unsigned>(b); }

namespace detail {
inline std::atomic<bug_set> active{0};
}

// Is this bug switched on? Read at the bug's site.
inline bool on(bug b) noexcept { return (detail::active.load(std::memory_order_relaxed) & bit(b)) != 0; }
inline bug_set active() noexcept { return detail::active.load(std::memory_order_relaxed); }

// Switches exactly `set` on for its lifetime, then restores what was before.
class scoped_bugs {
 public:
  explicit scoped_bugs(bug_set set) noexcept : before_(detail::active.exchange(set)) {}
  ~scoped_bugs() { detail::active.store(before_); }
  scoped_bugs(const scoped_bugs&) = delete;
  scoped_bugs& operator=(const scoped_bugs&) = delete;

 private:
  bug_set before_;
};

// The names of the bugs in `set`, in catalogue order.
std::vector<std::string_view> names(bug_set set);

}  // namespace dkv::bugs
