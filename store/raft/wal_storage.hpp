#pragma once
// The replica's storage on a file interface: hard state and log entries as
// records in the write-ahead log (store/storage/wal), the latest snapshot in
// a snapshot file. The same code runs on POSIX files and on the simulated
// disk, so the simulator tests the real durability path.
//
// Records, in the order a ready asks for them (ready.hpp):
//   snapshot mark  u64 index | u64 term          the log up to it is covered
//   entries        u64 first index | entries (entry_codec.hpp)
//   hard state     u64 term | u64 vote | u64 commit
// Term and vote are also appended to two small files when they change, so
// that damage to the log (which cuts every record after the damaged one)
// cannot roll them back. A ready is one sync of the log (and of the two vote
// files when term or vote changed), which may run in the background. Recovery replays the records in order (an entries
// record replaces what it overlaps, a snapshot mark drops what it covers, or
// everything when the log disagrees with it at its index), then applies the
// snapshot file if it is newer than the last mark (a crash between writing
// the file and its mark) and appends and syncs that missing mark, so that the
// entries written after it replay without a gap. After the shell's own
// snapshot, the log moves to a new segment that starts with the hard state
// and the mark, and segments holding nothing past the snapshot are removed.
//
// Beside the log, the member's identity (identity.hpp: its incarnation and
// whom it has met), rewritten whole and synced when a ready changes it, and a
// promise file (promise_file.hpp) keeps the highest index
// that was committed and durable here, renewed every promise_every syncs
// and at each snapshot. A log that recovers short of it, or a claimed
// segment that is gone, is damage, never a crash: the node repairs from its
// peers before it votes, and one alone refuses to start until an operator
// accepts the loss (accept_data_loss).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/raft/promise_file.hpp"
#include "store/raft/storage.hpp"
#include "store/storage/file_system.hpp"
#include "store/storage/wal.hpp"

namespace dkv::raft {

class wal_storage final : public storage {
 public:
  static constexpr const char* snapshot_file_name = "raft-snapshot";
  // Syncs between two renewals of the promise: each renewal costs a sync of
  // one more small file, and the loss of what fewer syncs made durable is
  // not told from a crash.
  static constexpr unsigned promise_every = 16;
  // Tests: renew the promise after every `syncs` syncs instead.
  void renew_promise_every(unsigned syncs) noexcept { promise_every_ = syncs; }

  // Recovers what `fs` holds and opens it for writing. Damage to synced data
  // does not fail the open: it is reported by damaged().
  static error open(dkv::storage::file_system& fs, const dkv::storage::wal_options& options,
                    std::unique_ptr<wal_storage>& out);

  error persist(const ready& work) override;  // write(), then sync()
  // persist() in two halves, for a shell whose disk completes a sync later:
  // the records (term and vote files are synced at once), then the log sync.
  error write(const ready& work);
  error sync();
  // The second half in the background (file_system::sync_in_background):
  // the files whose sync makes the writes so far durable. Only those syncs
  // may run elsewhere; everything else stays on the storage's thread.
  std::vector<std::shared_ptr<dkv::storage::file>> files_to_sync();
  // The shell's sync of files_to_sync() succeeded: what it covered is durable.
  void synced();
  error save_snapshot(const snapshot& taken) override;
  // What was on disk when opened (handed over once: later calls get nothing).
  durable_state recover() override;

  // Synced data was found damaged (a record or the snapshot file): the node
  // must not vote or count toward a quorum until its peers have repaired it.
  bool damaged() const noexcept { return damaged_; }
  // The replica has repaired itself from its peers (ready::repaired).
  error clear_damage();
  const std::string& problem() const noexcept { return problem_; }
  // An operator accepts that what the damage took is gone (a node alone has
  // no peers to repair from): the marker goes, and the log as it is now is
  // what the node promises from here on.
  error accept_data_loss();
  // What this node has promised (the promise file's latest record).
  const promise& promised() const noexcept { return promises_->latest(); }

  // Deliberately broken, for tests that must see their checks fail: the log
  // is no longer synced, so entries are acknowledged before they are durable.
  void break_durability_for_testing() noexcept { skip_sync_ = true; }

 private:
  explicit wal_storage(dkv::storage::file_system& fs) : fs_(fs) {}
  error replay(const dkv::storage::wal_recovery& recovered);
  void mark_damaged(std::string problem);
  error write_snapshot(const snapshot& s);
  error append_mark(const snapshot_meta& meta);
  error append_state(const hard_state& state);
  error append_entries_record(const std::vector<entry>& entries);
  error write_vote(const hard_state& s);
  error rewrite_long_vote_files();
  static void raise_term_to_log(durable_state& state);
  error check_promise();
  error renew_promise(index_t claim, std::uint64_t first_segment);

  dkv::storage::file_system& fs_;
  std::unique_ptr<dkv::storage::wal> wal_;
  durable_state recovered_;
  hard_state state_;  // the latest written
  hard_state voted_;  // the latest term and vote in the vote files
  std::shared_ptr<dkv::storage::file> vote_logs_[2];
  bool vote_unsynced_ = false;                     // the vote files have records to sync
  std::map<std::uint64_t, index_t> segment_last_;  // segment -> highest entry index in it
  // At most where the log replays to: the last entry written, or a later
  // snapshot mark. A batch starting past it would leave a gap.
  index_t log_end_ = 0;
  std::optional<snapshot_meta> unmarked_snapshot_;  // replay adopted a snapshot file the log has no mark for
  std::unique_ptr<promise_file> promises_;
  index_t written_end_ = 0;    // the log's last index as written (entries or a snapshot)
  index_t syncing_claim_ = 0;  // committed and written when the sync under way began
  index_t durable_claim_ = 0;  // committed and durable: what the next renewal promises
  unsigned syncs_since_promise_ = 0;
  unsigned promise_every_ = promise_every;
  bool promise_unsynced_ = false;  // the promise file has a record to sync
  bool damaged_ = false;
  bool skip_sync_ = false;
  std::string problem_;
  std::string buffer_;  // reused record buffer
};

}  // namespace dkv::raft
