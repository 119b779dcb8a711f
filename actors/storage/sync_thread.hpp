#pragma once
// Syncs files on a thread of its own, one after another in the order asked.
// On a real disk an fsync blocks for a millisecond or more; on a node's
// actor it would hold one of the scheduler's few workers, and the node with
// it, for that long. With the sync here the node goes on taking input and
// appending records while the disk works (posix_file_system's
// sync_in_background).

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "store/storage/file_system.hpp"

namespace dkv::actors {

class sync_thread {
 public:
  sync_thread();
  ~sync_thread();  // finishes every sync asked for, then joins
  sync_thread(const sync_thread&) = delete;
  sync_thread& operator=(const sync_thread&) = delete;

  // Syncs `files` and calls `done` on this thread.
  void start(storage::file_system::shared_files files, storage::file_system::sync_done done);

 private:
  struct job {
    storage::file_system::shared_files files;
    storage::file_system::sync_done done;
  };
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace dkv::actors
