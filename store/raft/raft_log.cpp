#include "store/raft/raft_log.hpp"

#include <algorithm>

namespace dkv::raft {

std::optional<term_t> raft_log::term_at(index_t index) const noexcept {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entries_[index - first_index()].term;
}

std::vector<entry> raft_log::slice(index_t from, index_t to, std::size_t max_bytes) const {
  std::vector<entry> out;
  if (from >= to) return out;
  to = std::min(to, last_index() + 1);
  out.reserve(to - from);
  std::size_t bytes = 0;
  for (index_t i = from; i < to; ++i) {
    const entry& e = at(i);
    bytes += e.data.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

void raft_log::truncate_from(index_t index) {
  // No clamp: the one caller (a follower's conflict) skips what its snapshot
  // covers and truncates only at an entry it holds. Below the snapshot would
  // mean committed state in conflict; past the end, a conflict that is not there.
  DKV_ASSERT(index > snapshot_index_ && index <= last_index(), index, snapshot_index_, last_index());
  entries_.resize(index - first_index());
}

index_t raft_log::first_index_of_term_run(index_t index) const {
  const auto term = term_at(index);
  if (!term) return first_index();
  while (index > first_index() && at(index - 1).term == *term) --index;
  return index;
}

index_t raft_log::last_index_with_term_at_most(term_t term, index_t index) const {
  index = std::min(index, last_index());
  for (; index >= first_index(); --index)
    if (at(index).term <= term) return index;
  return snapshot_term_ <= term ? snapshot_index_ : 0;
}

void raft_log::compact(index_t index) {
  // No clamp: the replica's compact() refuses an unusable index before it
  // gets here (and restore() compacts only to an entry it holds). Quietly
  // doing nothing would leave the log longer than its snapshot claims.
  DKV_ASSERT(index > snapshot_index_ && index <= last_index(), index, snapshot_index_, last_index());
  snapshot_term_ = at(index).term;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_index_));
  snapshot_index_ = index;
}

bool raft_log::restore(index_t index, term_t term) {
  DKV_ASSERT(index >= snapshot_index_, index, snapshot_index_);
  if (index > snapshot_index_ && matches(index, term)) {
    compact(index);
    return true;
  }
  entries_.clear();
  snapshot_index_ = index;
  snapshot_term_ = term;
  return false;
}

}  // namespace dkv::raft
