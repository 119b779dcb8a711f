#pragma once
// Client sessions of the replicated state machine (docs/spec.md, dstore): the
// memory that makes a retried write apply at most once.
//
// A session is opened by a log entry and named by that entry's log index.
// It remembers the result of every write at or above the client's lowest
// unanswered sequence number, so a retry gets the first answer back. When
// more than `max_sessions` are open, opening one evicts the session that was
// least recently active by log position — the same on every replica, since
// all of them apply the same log.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "store/error.hpp"

namespace dkv::replicated {

struct cached_result {
  error err;
  bool deleted = false;
  std::uint64_t index = 0;
  friend bool operator==(const cached_result&, const cached_result&) = default;
};

struct session {
  std::uint64_t last_active = 0;  // log index of the session's latest entry
  std::uint64_t lowest_unanswered = 0;
  std::map<std::uint64_t, cached_result> results;  // by sequence number
};

struct session_limits {
  std::size_t max_sessions = 4096;
  std::size_t max_results_per_session = 1024;  // unanswered writes a client may have in flight
};

class session_table {
 public:
  explicit session_table(session_limits limits = {}) : limits_(limits) {}

  // Opens session `id` at log index `id`; returns the evicted session, if any.
  std::optional<std::uint64_t> open(std::uint64_t id);
  session* find(std::uint64_t id) noexcept;
  // Marks activity at `log_index` (the eviction order).
  void touch(std::uint64_t id, session& s, std::uint64_t log_index);

  std::size_t size() const noexcept { return sessions_.size(); }
  const session_limits& limits() const noexcept { return limits_; }

  // Sessions in id order: the same bytes on every replica.
  void save(std::string& out) const;
  error load(std::string_view& in);  // consumes its part of `in`

  friend bool operator==(const session_table& a, const session_table& b);

 private:
  session_limits limits_;
  std::map<std::uint64_t, session> sessions_;
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_activity_;  // (last_active, id)
};

}  // namespace dkv::replicated
