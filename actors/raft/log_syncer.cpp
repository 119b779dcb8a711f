#include "actors/raft/log_syncer.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include <utility>

#include "actors/messages.hpp"

namespace dkv::actors {

log_syncer::log_syncer(caf::actor_addr owner) : owner_(std::move(owner)), thread_([this] { run(); }) {}

log_syncer::~log_syncer() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void log_syncer::start(std::shared_ptr<storage::file> log, std::uint64_t sequence) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    next_ = job{std::move(log), sequence};
  }
  wake_.notify_one();
}

void log_syncer::run() {
  for (;;) {
    job work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || next_.has_value(); });
      if (!next_) return;  // stopping, nothing left to do
      work = std::move(*next_);
      next_.reset();
    }
    log_synced done{work.sequence, {}};
    if (work.log)
      if (error e = work.log->sync(); !e.ok()) done.failure = e.message();
    work.log.reset();  // a rotated-away segment closes here, not on the node
    if (const auto node = caf::actor_cast<caf::actor>(owner_)) caf::anon_send(node, std::move(done));
  }
}

}  // namespace dkv::actors
