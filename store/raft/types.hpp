#pragma once
// The vocabulary of the Raft core: ids, terms, indexes, log entries and their
// payloads, the hard state that must survive a crash, and snapshots.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace dkv::raft {

using node_id = std::uint64_t;  // 0 is "nobody"
using term_t = std::uint64_t;
using index_t = std::uint64_t;

inline constexpr node_id no_node = 0;

// Immutable bytes shared by reference: one allocation when made, none when an
// entry is copied into a message, another replica's log or the apply list.
class payload {
 public:
  payload() = default;
  static payload copy_of(std::string_view bytes) {
    payload p;
    if (!bytes.empty()) {
      auto buffer = std::make_shared_for_overwrite<char[]>(bytes.size());
      std::memcpy(buffer.get(), bytes.data(), bytes.size());
      p.data_ = std::move(buffer);
      p.size_ = bytes.size();
    }
    return p;
  }
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  friend bool operator==(const payload& a, const payload& b) noexcept { return a.view() == b.view(); }

 private:
  std::shared_ptr<const char[]> data_;
  std::size_t size_ = 0;
};

enum class entry_kind : std::uint8_t {
  command,  // the state machine's: applied by the shell
  noop,     // a new leader's first entry: commits the entries of earlier terms
  config,   // a membership change (membership.hpp), effective once appended
};

struct entry {
  term_t term = 0;
  index_t index = 0;
  entry_kind kind = entry_kind::command;
  payload data;

  friend bool operator==(const entry&, const entry&) = default;
};

// Voters decide elections and commits; learners receive the log but do not
// count. Both lists are sorted and disjoint.
struct membership {
  std::vector<node_id> voters;
  std::vector<node_id> learners;

  bool is_voter(node_id id) const noexcept;
  bool is_learner(node_id id) const noexcept;
  bool contains(node_id id) const noexcept { return is_voter(id) || is_learner(id); }
  std::size_t quorum() const noexcept { return voters.size() / 2 + 1; }
  friend bool operator==(const membership&, const membership&) = default;
};

// What a replica must never forget: the latest term it has seen, whom it
// voted for in that term, and (as a hint for restarts) the commit index.
struct hard_state {
  term_t term = 0;
  node_id vote = no_node;
  index_t commit = 0;
  friend bool operator==(const hard_state&, const hard_state&) = default;
};

// A state-machine snapshot covers the log up to and including `index`.
struct snapshot_meta {
  index_t index = 0;
  term_t term = 0;
  membership config;
  friend bool operator==(const snapshot_meta&, const snapshot_meta&) = default;
};

struct snapshot {
  snapshot_meta meta;
  payload data;
};

}  // namespace dkv::raft
