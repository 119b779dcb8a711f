#pragma once
// A replica's log in memory: the entries after its latest snapshot. Indexes
// start at 1; the snapshot stands in for everything up to snapshot_index().
// Pure bookkeeping — what reaches the disk is the replica's business.

#include <cstddef>
#include <optional>
#include <vector>

#include "store/assert.hpp"
#include "store/raft/types.hpp"

namespace dkv::raft {

class raft_log {
 public:
  index_t snapshot_index() const noexcept { return snapshot_index_; }
  term_t snapshot_term() const noexcept { return snapshot_term_; }
  index_t first_index() const noexcept { return snapshot_index_ + 1; }
  index_t last_index() const noexcept { return snapshot_index_ + entries_.size(); }
  term_t last_term() const noexcept { return entries_.empty() ? snapshot_term_ : entries_.back().term; }

  // The term of the entry at `index`; none when compacted away or beyond the end.
  std::optional<term_t> term_at(index_t index) const noexcept;
  bool matches(index_t index, term_t term) const noexcept { return term_at(index) == term; }
  // The entry at `index`, which must be in the log (not compacted away).
  const entry& at(index_t index) const {
    DKV_ASSERT(index >= first_index() && index <= last_index(), index, first_index(), last_index());
    return entries_[index - first_index()];
  }

  // Entries [from, to) — from >= first_index() — stopping early once they
  // exceed max_bytes of payload (at least one entry is always returned).
  std::vector<entry> slice(index_t from, index_t to, std::size_t max_bytes = SIZE_MAX) const;

  // Appends an entry whose index is last_index() + 1 and whose term is no
  // lower than the last one's: terms never decrease along a log.
  void append(entry e) {
    DKV_ASSERT(e.index == last_index() + 1, e.index, last_index());
    DKV_ASSERT(e.term >= last_term(), e.index, e.term, last_term());
    entries_.push_back(std::move(e));
  }
  // Removes every entry from `index` on: snapshot_index() < index <=
  // last_index() (a conflict found in the log, never in the snapshot).
  void truncate_from(index_t index);

  // The first index of `term` in the run of entries of that term ending at
  // `index`, not below first_index() (the follower's rejection hint).
  index_t first_index_of_term_run(index_t index) const;
  // The last index at or below `index` whose term is <= `term`, or 0 (the
  // leader's jump after a hint).
  index_t last_index_with_term_at_most(term_t term, index_t index) const;

  // Drops entries up to `index` (snapshot_index() < index <= last_index());
  // the snapshot now covers them.
  void compact(index_t index);
  // Replaces the log with a snapshot's position (never behind the current
  // one): entries after it are kept when the log agrees with the snapshot at
  // its index, else all are dropped. Returns true when entries were kept.
  bool restore(index_t index, term_t term);

 private:
  index_t snapshot_index_ = 0;
  term_t snapshot_term_ = 0;
  std::vector<entry> entries_;
};

}  // namespace dkv::raft
