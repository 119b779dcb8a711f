#pragma once
// Records a run as it happens: every client operation and fault, and the
// nodes' roles and terms as they change, written as
// docs/history.md's JSON lines to a sink and kept in memory as the `history` the
// checker reads. The in-memory copy is exactly what parse_history would read
// back from the lines written so far, so checking the file and checking the
// run in memory give the same verdict.
//
// Lives in sim/, not in check/: fault names and descriptions come from
// fault.cpp, which is part of dkv::sim (CAF), and check/ stays free of CAF.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>

#include "check/history/history.hpp"
#include "sim/faults/fault.hpp"

namespace dkv::sim {

// A simulated run's history is the checker's: the same types.
using check::history;
using check::operation;
using check::outcome;

// How an operation ended.
struct op_result {
  outcome result = outcome::info;
  int code = 0;                        // docs/spec.md error code (fail / info)
  bool found = false;                  // get, has; deleteIfValue's "deleted"
  std::optional<std::string> value;    // get's value when found
  std::optional<std::uint64_t> index;  // on every ok
};

class history_recorder {
 public:
  // `sink`: where each event's line is written as it happens (null: memory only).
  explicit history_recorder(std::ostream* sink = nullptr);

  // The run's header line. `nodes` also tells which nodes an isolate cuts off
  // (nodes are numbered 1..nodes, as sim_cluster numbers them).
  void meta(std::uint64_t t_ns, std::uint64_t seed, std::string_view scenario, std::size_t nodes);

  // Records an invocation; `op` carries process, f and its arguments. Fields
  // the file does not carry for this f are cleared, so memory matches the file.
  // Returns the id to complete it with: its index in recorded().operations.
  // Throws std::invalid_argument for an unknown f and std::logic_error when
  // the process already has an operation in flight (the file would not parse).
  std::size_t invoke(std::uint64_t t_ns, operation op);

  // Throws std::logic_error when `id` is not in flight.
  void complete(std::size_t id, std::uint64_t t_ns, const op_result& r);

  void fault(std::uint64_t t_ns, const dkv::sim::fault& f);

  // A node's role ("follower", "pre-candidate", "candidate", "leader", or
  // "stopped") and term, written when they change (docs/history.md).
  void node(std::uint64_t t_ns, node_id id, std::string_view role, std::uint64_t term);

  // The history as parse_history reads back the lines written so far:
  // operations in invocation order (parse_history orders by call time, so the
  // two agree when no two invocations share a time), info and still-in-flight
  // operations with return_ns = never, faults as fault_events, node lines as node_events.
  const history& recorded() const noexcept { return history_; }

  // Completed operations with this outcome (in-flight ones are not counted).
  std::size_t count(outcome o) const noexcept { return counts_[static_cast<std::size_t>(o)]; }

 private:
  void write(const std::string& line);

  std::ostream* sink_;
  std::size_t lines_ = 0;  // written so far: an invocation's line number for messages
  std::size_t nodes_ = 0;
  history history_;
  std::unordered_map<std::uint32_t, std::size_t> in_flight_;  // process -> id of its operation
  std::size_t counts_[3] = {};
};

}  // namespace dkv::sim
