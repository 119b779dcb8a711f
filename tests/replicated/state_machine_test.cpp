// The replicated state machine: sessions, at-most-once, the store clock,
// eviction, snapshots.

#include <catch2/catch.hpp>

#include "store/bugs.hpp"
#include "store/replicated/log_command.hpp"
#include "store/replicated/state_machine.hpp"

using namespace dkv;
using namespace dkv::replicated;

namespace {

// Feeds a state machine log entries at consecutive log indexes.
struct log_feeder {
  state_machine machine;
  std::uint64_t next_index = 1;

  explicit log_feeder(state_machine_options options = {}) : machine(options) {}

  std::uint64_t open_session() {
    std::string bytes;
    encode_open_session(bytes);
    const apply_result r = machine.apply(next_index++, bytes);
    REQUIRE(r.status == apply_status::session_opened);
    return r.session;
  }
  apply_result write(std::uint64_t session, std::uint64_t sequence, std::uint64_t lowest, write_command command) {
    std::string bytes;
    encode_client_write({session, sequence, lowest, command}, bytes);
    return machine.apply(next_index++, bytes);
  }
  apply_result set(std::uint64_t session, std::uint64_t sequence, std::string_view key, std::string_view value,
                   std::uint64_t lowest = 0) {
    return write(session, sequence, lowest, {operation_kind::set, key, value, 0, 0});
  }
  std::string get(std::string_view key) {
    std::string value;
    return machine.engine().Get(key, value).found ? value : "<absent>";
  }
};

}  // namespace

TEST_CASE("a write applies once, a retry gets the first result", "[replicated]") {
  log_feeder log;
  const std::uint64_t s = log.open_session();
  REQUIRE(s == 1);
  const apply_result first = log.set(s, 1, "k", "v1");
  REQUIRE(first.status == apply_status::applied);
  REQUIRE(first.err.ok());
  REQUIRE(first.index == 1);

  log.machine.skip(log.next_index++);  // a leader no-op between the attempts
  const apply_result retry = log.set(s, 1, "k", "v1");
  REQUIRE(retry.status == apply_status::duplicate);
  REQUIRE(retry.index == 1);
  REQUIRE(log.machine.engine().WriteIdx() == 1);  // neither the retry nor the no-op moved the clock

  REQUIRE(log.set(s, 2, "k", "v2").index == 2);
  REQUIRE(log.get("k") == "v2");
  REQUIRE(log.machine.applied_index() == log.next_index - 1);
}

TEST_CASE("DeleteIfValue's outcome is remembered for its retry", "[replicated]") {
  log_feeder log;
  const std::uint64_t s = log.open_session();
  log.set(s, 1, "lock", "me");
  const apply_result released = log.write(s, 2, 0, {operation_kind::remove_if_value, "lock", "me", 0, 0});
  REQUIRE(released.deleted);
  log.set(s, 3, "lock", "me");  // taken again
  const apply_result retry = log.write(s, 2, 0, {operation_kind::remove_if_value, "lock", "me", 0, 0});
  REQUIRE(retry.status == apply_status::duplicate);
  REQUIRE(retry.deleted);
  REQUIRE(log.get("lock") == "me");  // the retry did not delete the new lock
}

TEST_CASE("unknown sessions and answered sequences are never applied", "[replicated]") {
  log_feeder log;
  const apply_result unknown = log.set(99, 1, "k", "v");
  REQUIRE(unknown.status == apply_status::unknown_session);
  REQUIRE(unknown.err.code() == error_code::unavailable);
  REQUIRE(log.machine.engine().WriteIdx() == 0);

  const std::uint64_t s = log.open_session();
  REQUIRE(log.set(s, 5, "k", "v5", 5).status == apply_status::applied);
  const apply_result stale = log.set(s, 4, "k", "v4", 4);
  REQUIRE(stale.status == apply_status::stale_sequence);
  REQUIRE(log.get("k") == "v5");
  // Once the client says 5 is answered, its result is forgotten and a replay is stale.
  REQUIRE(log.set(s, 6, "k", "v6", 6).status == apply_status::applied);
  REQUIRE(log.set(s, 5, "k", "v5", 6).status == apply_status::stale_sequence);
  REQUIRE(log.machine.engine().WriteIdx() == 2);
}

TEST_CASE("refused writes take no index and answer their retries the same way", "[replicated]") {
  state_machine_options options;
  options.limits.max_value_bytes = 4;
  log_feeder log(options);
  const std::uint64_t s = log.open_session();
  const apply_result over = log.set(s, 1, "k", "12345");
  REQUIRE(over.status == apply_status::applied);
  REQUIRE(over.err.code() == error_code::invalid_operation);
  REQUIRE(over.index == 0);
  REQUIRE(log.set(s, 1, "k", "12345").err.code() == error_code::invalid_operation);
  REQUIRE(log.set(s, 2, "k", "1234").index == 1);
}

TEST_CASE("the least recently active session is evicted, the same way everywhere", "[replicated]") {
  state_machine_options options;
  options.sessions.max_sessions = 2;
  log_feeder log(options);
  const std::uint64_t a = log.open_session(), b = log.open_session();
  log.set(a, 1, "x", "1");  // a is now more recent than b
  const std::uint64_t c = log.open_session();
  REQUIRE(log.machine.sessions().size() == 2);
  REQUIRE(log.set(b, 1, "x", "2").status == apply_status::unknown_session);
  REQUIRE(log.set(a, 2, "x", "3").status == apply_status::applied);
  REQUIRE(log.set(c, 1, "x", "4").status == apply_status::applied);
}

TEST_CASE("a session's unanswered writes are bounded", "[replicated]") {
  state_machine_options options;
  options.sessions.max_results_per_session = 3;
  log_feeder log(options);
  const std::uint64_t s = log.open_session();
  for (std::uint64_t q = 1; q <= 3; ++q) REQUIRE(log.set(s, q, "k", "v").status == apply_status::applied);
  const apply_result full = log.set(s, 4, "k", "v");
  REQUIRE(full.status == apply_status::too_many_pending);
  REQUIRE(full.err.code() == error_code::unavailable);
  REQUIRE(log.set(s, 4, "k", "v", 3).status == apply_status::applied);  // 1 and 2 answered: room again
}

TEST_CASE("malformed entries change nothing but the applied index", "[replicated]") {
  log_feeder log;
  const apply_result r = log.machine.apply(1, "garbage");
  REQUIRE(r.status == apply_status::malformed);
  REQUIRE(log.machine.applied_index() == 1);
  REQUIRE(log.machine.engine().WriteIdx() == 0);
}

TEST_CASE("a snapshot carries the engine, the sessions and the applied index", "[replicated]") {
  log_feeder log;
  const std::uint64_t s = log.open_session();
  log.set(s, 1, "a", "1");
  log.write(s, 2, 0, {operation_kind::set_e, "b", "2", 3, 6});
  std::string snapshot;
  REQUIRE(log.machine.save(snapshot).ok());

  state_machine restored;
  REQUIRE(restored.load(snapshot).ok());
  REQUIRE(restored.applied_index() == log.machine.applied_index());
  REQUIRE(restored.engine().Digest() == log.machine.engine().Digest());
  REQUIRE(restored.sessions() == log.machine.sessions());
  std::string again;
  REQUIRE(restored.save(again).ok());
  REQUIRE(again == snapshot);

  // A retry after the restore still gets its first answer.
  std::string bytes;
  encode_client_write({s, 2, 0, {operation_kind::set_e, "b", "2", 3, 6}}, bytes);
  const apply_result retry = restored.apply(log.next_index, bytes);
  REQUIRE(retry.status == apply_status::duplicate);
  REQUIRE(retry.index == 2);

  SECTION("every corruption is refused and changes nothing") {
    for (std::size_t i = 0; i < snapshot.size(); i += 7) {
      std::string bad = snapshot;
      bad[i] ^= 0x20;
      state_machine target;
      REQUIRE_FALSE(target.load(bad).ok());
      REQUIRE(target.applied_index() == 0);
    }
    for (std::size_t cut = 0; cut < snapshot.size(); cut += 5) {
      state_machine target;
      REQUIRE_FALSE(target.load(std::string_view(snapshot).substr(0, cut)).ok());
    }
  }
}

TEST_CASE("injected bug no-session-dedup: a retried write is applied a second time", "[replicated][bugs]") {
  const bool bug = GENERATE(false, true);
  bugs::scoped_bugs guard(bug ? bugs::bit(bugs::bug::no_session_dedup) : 0);
  log_feeder log;
  const std::uint64_t s = log.open_session();
  REQUIRE(log.set(s, 1, "k", "v1").index == 1);
  REQUIRE(log.set(s, 2, "k", "v2").index == 2);
  // A late copy of the first write (the client retried it while its first attempt was in the log).
  const apply_result retry = log.set(s, 1, "k", "v1");
  if (bug) {
    CHECK(retry.status == apply_status::applied);
    CHECK(retry.index == 3);
    CHECK(log.get("k") == "v1");  // the retry undid the later write
    CHECK(log.machine.engine().WriteIdx() == 3);
  } else {
    CHECK(retry.status == apply_status::duplicate);
    CHECK(retry.index == 1);
    CHECK(log.get("k") == "v2");
    CHECK(log.machine.engine().WriteIdx() == 2);
  }
}

TEST_CASE("injected bug raw-index-clock: the store clock follows the Raft log index", "[replicated][bugs]") {
  const bool bug = GENERATE(false, true);
  bugs::scoped_bugs guard(bug ? bugs::bit(bugs::bug::raw_index_clock) : 0);
  log_feeder log;
  const std::uint64_t s = log.open_session();                                              // log index 1
  log.machine.skip(log.next_index++);                                                      // 2: a leader's no-op
  const apply_result first = log.write(s, 1, 0, {operation_kind::set_e, "k", "v", 2, 0});  // log index 3
  REQUIRE(first.err.ok());
  CHECK(first.index == (bug ? 3 : 1));
  log.machine.skip(log.next_index++);  // 4, 5: no-ops of two more elections
  log.machine.skip(log.next_index++);
  const apply_result second = log.set(s, 2, "other", "o");  // log index 6
  CHECK(second.index == (bug ? 6 : 2));
  // Expiry counts store writes: after one more write "k" (set at the first, expire-in 2) is
  // still live; with the raw index, the elections in between have already expired it.
  CHECK((log.get("k") == "v") == !bug);
}
