#include "actors/storage/sync_thread.hpp"

#include <utility>

namespace dkv::actors {

sync_thread::sync_thread() : thread_([this] { run(); }) {}

sync_thread::~sync_thread() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void sync_thread::start(storage::file_system::shared_files files, storage::file_system::sync_done done) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    jobs_.push_back({std::move(files), std::move(done)});
  }
  wake_.notify_one();
}

void sync_thread::run() {
  for (;;) {
    job work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left to do
      work = std::move(jobs_.front());
      jobs_.pop_front();
    }
    const error outcome = storage::sync_all(work.files);
    work.files.clear();  // a file its owner let go of (a rotated-away segment) closes here
    work.done(outcome);
  }
}

}  // namespace dkv::actors
