#pragma once
// The client actor: a caller's IStore operations (store_call, answered with
// a store_answer) carried to a dstore cluster. It finds the leader (any node
// answers with the leader it knows, and forwards), retries with backoff on
// its own clock, and reports each outcome as docs/spec.md's error table demands:
//
//   - success and the store's own refusals (InvalidOperation, Unsupported)
//     as the state machine gave them;
//   - Unavailable only when no attempt can ever be applied: every attempt
//     sent was refused before it reached a log (no leader, busy, lost to
//     another leader's entry), or none was sent. A final refusal (a node
//     without a leader for a while, saying why) ends the call at once with
//     its reason; otherwise the client tries again until the deadline;
//   - Timeout when the call's time is up and some attempt may have been
//     applied (it went unanswered), and when the write's session was
//     evicted after an attempt that may have been applied.
//
// Writes are exactly-once through a session (docs/spec.md, dstore): the client
// opens one through the log, numbers its writes, and every attempt of a
// write carries the same (session, sequence) and the lowest sequence still
// unanswered. A write refused for an unknown session that cannot have been
// applied is sent again in a new session.
//
// Many calls may be in flight at once; each has its own deadline. Its
// timers (deadlines, overdue attempts, backoffs) are kept in the client, and
// it arms one real timer at a time, for the earliest: a busy client does not
// cost the scheduler two timers per call, and an idle one arms none.

#include <caf/event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/seams.hpp"
#include "store/limits.hpp"
#include "store/rng.hpp"

namespace dkv::actors {

struct client_config {
  std::vector<net_address> nodes;                                                     // the cluster
  net_address self = 0;                                                               // where nodes answer
  // The node every attempt goes to, if any: it answers, or forwards to the
  // leader it knows. A server's client asks the replica in its own process,
  // which always answers and knows best whether its leader is alive (an
  // attempt sent straight to a leader that is down leaves its call in
  // doubt). 0: the leader as last heard of, else the nodes in turn.
  net_address home = 0;
  store_limits limits{.max_key_bytes = 64ull << 10, .max_value_bytes = 16ull << 20};  // dstore's
  // All on the client's own clock.
  std::uint64_t attempt_timeout_ns = 300'000'000;  // unanswered this long: try again, elsewhere
  std::uint64_t min_backoff_ns = 5'000'000;        // after a refusal; doubles up to max
  std::uint64_t max_backoff_ns = 500'000'000;
  std::uint64_t call_timeout_ns = 10'000'000'000;  // then Timeout, or Unavailable
  std::size_t max_calls = 4096;                    // in flight; beyond, Unavailable at once
  // The first attempt's request id. Nodes drop a request id they took
  // lately from the same address as a network duplicate (seen_requests), so a
  // client that comes back under an address it had before (a restarted
  // server's) must not count from where it did then: a server starts its
  // client at a random point of the 64-bit space.
  std::uint64_t first_request = 1;
};

// One of the client's own timers for a call.
enum class client_timer_kind : std::uint8_t { deadline, attempt_overdue, backoff_over };

struct client_timer {
  std::uint64_t call = 0;
  std::uint64_t request = 0;  // the attempt concerned (attempt_overdue, backoff_over)
  client_timer_kind kind = client_timer_kind::deadline;
};

class client : public caf::event_based_actor {
 public:
  client(caf::actor_config& cfg, client_config config, std::shared_ptr<transport> network,
         std::shared_ptr<local_clock> clock, std::uint64_t seed);

  caf::behavior make_behavior() override;
  // Drops the calls still in flight: each one's response promise holds this
  // actor, so a client stopped with calls unanswered (a simulated run that
  // a failed assertion ended mid-call) would otherwise never be freed.
  void on_exit() override;

 private:
  enum class purpose : std::uint8_t { read, write, open_session };

  struct call {
    purpose kind = purpose::read;
    store_call op;
    caf::typed_response_promise<store_answer> promise;
    std::uint64_t session = 0;  // writes: the session of `sequence` (0: not numbered yet)
    std::uint64_t sequence = 0;
    std::set<std::uint64_t> outstanding;  // attempts (request ids) sent and not answered
    std::vector<std::uint64_t> requests;  // every attempt's request id
    bool in_doubt = false;                // an attempt went unanswered: it may have been applied
    unsigned refusals = 0;                // in a row, for the backoff
    std::string unavailable;              // the latest final refusal's reason
  };

  struct attempt {
    std::uint64_t call = 0;
    net_address node = 0;       // where it was sent
    std::uint64_t session = 0;  // writes: the session it was numbered in
  };

  void start(std::uint64_t id, call c);
  void open_session_if_needed();
  // Gives a write the next sequence number in the open session.
  void number(call& c);
  void send_attempt(std::uint64_t id, call& c);
  // An attempt was refused: try again, at once if the refusal named another
  // leader; a final refusal (`why` set) ends the call if it can.
  void refused(std::uint64_t id, call& c, std::uint64_t request, const attempt& sent, std::uint64_t leader,
               const std::string& why);
  void on_command_outcome(const command_outcome& o);
  void on_read_outcome(const read_outcome& o);
  void on_timer(const client_timer& t);
  void on_session(std::uint64_t session);
  void session_lost(std::uint64_t session);
  void finish(std::uint64_t id, store_answer answer);
  void finish(std::uint64_t id, error_code code, std::string message);
  // The call a request id belongs to, if it is still running; `late` when
  // that attempt was already given up on.
  call* find(std::uint64_t request, std::uint64_t& id, attempt& sent, bool& late);
  std::uint64_t lowest_unanswered() const;
  // A write put back to wait for a new session: nothing to send until it opens.
  static bool waiting_for_session(const call& c) { return c.kind == purpose::write && c.sequence == 0; }
  net_address target();
  // Sets `timer` to go off `local_ns` from now on the client's clock.
  void arm(std::uint64_t local_ns, client_timer timer);
  void wake_up(std::uint64_t due_ns);
  void set_alarm();

  client_config config_;
  std::shared_ptr<transport> network_;
  std::shared_ptr<local_clock> clock_;
  dkv::rng random_;

  std::map<std::uint64_t, call> calls_;        // by call id
  std::map<std::uint64_t, attempt> requests_;  // by request id
  std::uint64_t next_call_ = 1;
  std::uint64_t next_request_ = 1;

  std::uint64_t session_ = 0;  // 0: none open
  std::uint64_t opening_ = 0;  // the open_session call running, if any
  std::uint64_t next_sequence_ = 1;
  std::deque<std::uint64_t> waiting_;  // writes waiting for a session

  struct due_timer {
    std::uint64_t due_ns;
    std::uint64_t order;  // equal due times go in the order they were set
    client_timer timer;
    bool operator>(const due_timer& o) const noexcept {
      return due_ns != o.due_ns ? due_ns > o.due_ns : order > o.order;
    }
  };
  std::priority_queue<due_timer, std::vector<due_timer>, std::greater<>> timers_;
  std::uint64_t timers_set_ = 0;
  std::set<std::uint64_t> alarms_;  // due times of the real timers armed and not yet rung
  bool waking_ = false;

  net_address leader_ = 0;  // the leader as last heard of; 0: unknown
  std::size_t rotation_ = 0;
  std::string buffer_;
};

}  // namespace dkv::actors
