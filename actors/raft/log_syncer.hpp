#pragma once
// A raft node's log sync on a thread of its own. On a real disk an fsync
// blocks for a millisecond or more; on the node's actor it would hold one
// of the scheduler's few workers, and the node with it, for that long.
// Here the node goes on taking input and writing records while the disk
// works, and hears log_synced when the sync is done: group commit across
// the sync, since the next one covers every record written meanwhile.
//
// Real runs only: the simulator completes syncs on its own clock instead
// (file_system::sync_latency_ns), so that runs stay deterministic.

#include <caf/actor_addr.hpp>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "store/storage/file_system.hpp"

namespace dkv::actors {

class log_syncer {
 public:
  // `owner` hears log_synced; if it is gone by then, nobody does.
  explicit log_syncer(caf::actor_addr owner);
  ~log_syncer();  // waits for a sync under way
  log_syncer(const log_syncer&) = delete;
  log_syncer& operator=(const log_syncer&) = delete;

  // Syncs `log` (null: nothing to sync) and then tells the owner that ready
  // `sequence` is durable. One at a time: the next only after log_synced.
  void start(std::shared_ptr<storage::file> log, std::uint64_t sequence);

 private:
  struct job {
    std::shared_ptr<storage::file> log;
    std::uint64_t sequence = 0;
  };
  void run();

  caf::actor_addr owner_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<job> next_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dkv::actors
