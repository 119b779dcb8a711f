#pragma once
// The storage interface a shell implements for its replica: what the core
// asks to keep (ready.hpp, step 1) and what it gets back after a restart.
// The actor shell implements it over the WAL and snapshot files; tests and
// benchmarks use memory_storage. The core itself never calls it — it is pure
// — the shell does, which keeps I/O (and its failures) in the shell.

#include <optional>
#include <vector>

#include "store/error.hpp"
#include "store/raft/identity.hpp"
#include "store/raft/ready.hpp"
#include "store/raft/types.hpp"

namespace dkv::raft {

// Everything a replica needs to come back after a crash.
struct durable_state {
  hard_state state;
  std::optional<snapshot> latest_snapshot;
  std::vector<entry> entries;  // the log after the snapshot, in order
  // Synced data was damaged: what is here may lack things this node once
  // acknowledged, so it must not vote or count toward a quorum until it has
  // caught up from a leader (replica::repairing()).
  bool needs_repair = false;
  raft::identity identity;  // incarnation 0: none kept (a new member, or its storage was lost)
};

class storage {
 public:
  virtual ~storage() = default;

  // Step 1 of a ready: make it durable (the caller then acknowledges it).
  // An error means durability is unknown: the node must stop (no retry).
  virtual error persist(const ready& work) = 0;
  // The shell's own state-machine snapshot at an applied index: the log up
  // to it may be dropped.
  virtual error save_snapshot(const snapshot& taken) = 0;
  // What survived: the input of a restarted replica.
  virtual durable_state recover() = 0;
};

// Appends a batch to a recovered log, replacing what it overlaps. False
// when it would leave a gap.
bool append_entries(std::vector<entry>& log, const std::vector<entry>& batch);

// Applies a snapshot to a recovered log: entries it covers go; so does the
// whole log when it disagrees with the snapshot at the snapshot's index.
void install_snapshot(durable_state& state, const snapshot& s);

// Keeps everything in memory: for tests, benchmarks and the simulator's
// "disk that never fails".
class memory_storage final : public storage {
 public:
  error persist(const ready& work) override;
  error save_snapshot(const snapshot& taken) override;
  durable_state recover() override { return state_; }

  const durable_state& state() const noexcept { return state_; }
  // Tests: synced data damaged — the log loses everything after `keep` and
  // the vote, and the node must repair before it votes again.
  void damage(index_t keep);
  void repaired() noexcept { state_.needs_repair = false; }
  // Tests: the disk is replaced — nothing of this member survives.
  void lose_everything() { state_ = {}; }

 private:
  durable_state state_;
};

}  // namespace dkv::raft
