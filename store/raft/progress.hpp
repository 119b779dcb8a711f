#pragma once
// What a leader knows about one follower's log, and how fast it may send.
//
// - probe: the leader does not know where the logs agree; one append at a
//   time, each waiting for its reply (or a heartbeat reply) before the next.
// - replicate: the logs agree up to `match`; appends are pipelined, `next`
//   moves on as they are sent, bounded by the in-flight window.
// - snapshot: the follower needs entries the leader has compacted; chunks
//   of the snapshot go one at a time.

#include <cstddef>
#include <cstdint>
#include <deque>

#include "store/assert.hpp"
#include "store/raft/types.hpp"

namespace dkv::raft {

class progress {
 public:
  enum class mode : std::uint8_t { probe, replicate, snapshot };

  progress(node_id id, index_t next) : id(id), next(next) {}

  node_id id;
  index_t match = 0;
  index_t next;
  mode state = mode::probe;
  bool paused = false;             // probe or snapshot: waiting for a reply
  bool recent_active = false;      // heard from since the last quorum check
  std::uint64_t last_heard = 0;    // when the leader last heard from it, as a count of replies
  std::uint64_t repair_epoch = 0;  // nonzero: repairing damaged storage, it does not count yet
  std::uint64_t read_round = 0;    // the highest read-index round it confirmed
  index_t match_at_beat = 0;       // `match` when the last periodic heartbeat went out

  // snapshot mode: which snapshot, and the next byte to send
  index_t snapshot_index = 0;
  std::uint64_t snapshot_offset = 0;

  void become_probe() {
    state = mode::probe;
    paused = false;
    next = match + 1;
    inflight_.clear();
    inflight_bytes_ = 0;
  }
  void become_replicate() {
    become_probe();
    state = mode::replicate;
  }
  void become_snapshot(index_t index) {
    become_probe();
    state = mode::snapshot;
    snapshot_index = index;
    snapshot_offset = 0;
  }

  // The follower holds everything up to `index`. False when that is old news.
  bool acknowledge(index_t index) {
    if (index <= match) return false;
    match = index;
    if (next <= match) next = match + 1;
    while (!inflight_.empty() && inflight_.front().last <= match) {
      inflight_bytes_ -= inflight_.front().bytes;
      inflight_.pop_front();
    }
    return true;
  }

  // Whether the window has room for one more append.
  bool window_full(std::size_t max_messages, std::size_t max_bytes) const noexcept {
    return inflight_.size() >= max_messages || inflight_bytes_ >= max_bytes;
  }
  void sent(index_t last, std::size_t bytes) {
    // Appends go out from `next` on, so they end at or after it.
    DKV_ASSERT(last >= next, id, last, next, match);
    inflight_.push_back({last, bytes});
    inflight_bytes_ += bytes;
    next = last + 1;
  }
  // A heartbeat reply while the window is full: the oldest append was
  // probably lost; make room so the follower's rejection can come back.
  void free_oldest() {
    if (inflight_.empty()) return;
    inflight_bytes_ -= inflight_.front().bytes;
    inflight_.pop_front();
  }

 private:
  struct in_flight {
    index_t last;
    std::size_t bytes;
  };
  std::deque<in_flight> inflight_;
  std::size_t inflight_bytes_ = 0;
};

}  // namespace dkv::raft
