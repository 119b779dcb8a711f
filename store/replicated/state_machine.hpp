#pragma once
// The replicated state machine of dstore (docs/spec.md, "Distributed store"): the
// engine plus client sessions, fed with committed log entries in log order.
//
// - The store clock counts applied store writes only: a session opening, a
//   deduplicated retry, a refused write or a Raft-internal entry (skip())
//   leaves it alone, so the same writes give the same state as in lstore.
// - A write applies at most once per (session, sequence): a retry returns the
//   first result; a write from an unknown (never opened or evicted) session,
//   or below the session's lowest unanswered number, is never applied.
// - A snapshot holds the engine, the sessions and the last applied log index.
// Pure and single-threaded: the actor shell owns it.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/kvdb.hpp"
#include "store/replicated/session_table.hpp"

namespace dkv::replicated {

struct client_write;

enum class apply_status : std::uint8_t {
  applied,           // a store write took effect (or was refused before indexing)
  duplicate,         // a retry: the first attempt's result, nothing applied now
  session_opened,    // the session id is the entry's log index
  unknown_session,   // never opened, or evicted: nothing applied
  stale_sequence,    // below the session's lowest unanswered: nothing applied
  too_many_pending,  // the session's result memory is full: nothing applied (Unavailable)
  malformed,         // the entry did not decode: nothing applied
};

std::string_view status_name(apply_status status) noexcept;

struct apply_result {
  apply_status status = apply_status::malformed;
  std::uint64_t session = 0;
  std::uint64_t sequence = 0;
  error err;                // the store's answer (applied / duplicate), or what went wrong
  bool deleted = false;     // DeleteIfValue
  std::uint64_t index = 0;  // the store write index it was applied at (0 if none)
};

struct state_machine_options {
  store_limits limits{.max_key_bytes = 64ull << 10, .max_value_bytes = 16ull << 20};  // dstore's defaults
  session_limits sessions;
};

class state_machine {
 public:
  explicit state_machine(state_machine_options options = {}, const db_factory& make_engine = default_db_factory());

  // Applies the committed entry at `log_index` (strictly increasing).
  apply_result apply(std::uint64_t log_index, std::string_view entry);
  // A committed entry that is Raft's own (no-op, membership change).
  void skip(std::uint64_t log_index);
  std::uint64_t applied_index() const noexcept { return applied_index_; }

  // Reads of the current state; the shell serves them once the read index is applied.
  const kvdb& engine() const noexcept { return *engine_; }
  const session_table& sessions() const noexcept { return sessions_; }
  // A hash of the session table's canonical bytes: equal tables, equal digests.
  std::uint64_t sessions_digest() const;
  const store_limits& limits() const noexcept { return options_.limits; }

  error save(std::string& out) const;
  error load(std::string_view snapshot);  // all or nothing

 private:
  apply_result apply_write(std::uint64_t log_index, const client_write& write);

  state_machine_options options_;
  std::unique_ptr<kvdb> engine_;
  session_table sessions_;
  std::uint64_t applied_index_ = 0;
};

}  // namespace dkv::replicated
