#include "store/replicated/session_table.hpp"

#include "store/byte_io.hpp"

namespace dkv::replicated {

std::optional<std::uint64_t> session_table::open(std::uint64_t id) {
  std::optional<std::uint64_t> evicted;
  if (sessions_.size() >= limits_.max_sessions && !by_activity_.empty()) {
    const auto oldest = by_activity_.begin();
    evicted = oldest->second;
    sessions_.erase(oldest->second);
    by_activity_.erase(oldest);
  }
  session& s = sessions_[id];
  s.last_active = id;
  by_activity_.emplace(id, id);
  return evicted;
}

session* session_table::find(std::uint64_t id) noexcept {
  const auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void session_table::touch(std::uint64_t id, session& s, std::uint64_t log_index) {
  by_activity_.erase({s.last_active, id});
  s.last_active = log_index;
  by_activity_.emplace(log_index, id);
}

void session_table::save(std::string& out) const {
  byte_writer w(out);
  w.u64(sessions_.size());
  for (const auto& [id, s] : sessions_) {
    w.u64(id);
    w.u64(s.last_active);
    w.u64(s.lowest_unanswered);
    w.u64(s.results.size());
    for (const auto& [sequence, r] : s.results) {
      w.u64(sequence);
      w.u8(static_cast<std::uint8_t>(r.err.code()));
      w.bytes(r.err.message());
      w.u8(r.deleted ? 1 : 0);
      w.u64(r.index);
    }
  }
}

error session_table::load(std::string_view& in) {
  auto malformed = [](const char* why) { return internal_error(std::string("corrupt session table: ") + why); };
  byte_reader r(in);
  std::map<std::uint64_t, session> sessions;
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_activity;
  std::uint64_t count;
  if (!r.u64(count)) return malformed("truncated");
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t id, results;
    session s;
    if (!r.u64(id) || !r.u64(s.last_active) || !r.u64(s.lowest_unanswered) || !r.u64(results))
      return malformed("truncated session");
    if (sessions.count(id) != 0) return malformed("a session appears twice");
    for (std::uint64_t j = 0; j < results; ++j) {
      std::uint64_t sequence;
      std::uint8_t code, deleted;
      std::string_view message;
      cached_result result;
      if (!r.u64(sequence) || !r.u8(code) || !r.bytes(message) || !r.u8(deleted) || !r.u64(result.index))
        return malformed("truncated result");
      if (code > static_cast<std::uint8_t>(error_code::unavailable) || deleted > 1) return malformed("bad result");
      result.err = code == 0 ? error() : error(static_cast<error_code>(code), std::string(message));
      result.deleted = deleted == 1;
      s.results.emplace(sequence, std::move(result));
    }
    by_activity.emplace(s.last_active, id);
    sessions.emplace(id, std::move(s));
  }
  if (by_activity.size() != sessions.size()) return malformed("two sessions share a log position");
  std::string_view rest;
  r.raw(r.remaining(), rest);
  in = rest;
  sessions_ = std::move(sessions);
  by_activity_ = std::move(by_activity);
  return {};
}

bool operator==(const session_table& a, const session_table& b) {
  if (a.sessions_.size() != b.sessions_.size()) return false;
  for (auto i = a.sessions_.begin(), j = b.sessions_.begin(); i != a.sessions_.end(); ++i, ++j) {
    if (i->first != j->first || i->second.last_active != j->second.last_active ||
        i->second.lowest_unanswered != j->second.lowest_unanswered || i->second.results != j->second.results)
      return false;
  }
  return true;
}

}  // namespace dkv::replicated
