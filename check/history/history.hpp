#pragma once
// A history: every client operation of a run with its call and return time
// and outcome, plus the faults that happened and the nodes' roles and terms
// as they changed (when recorded) — what the simulator records
// (docs/history.md), what dkv-check reads (also from Jepsen and EDN logs), and
// what the checker and the report work from. Pure data.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/operation.hpp"

namespace dkv::check {

inline constexpr std::uint64_t never = std::numeric_limits<std::uint64_t>::max();

enum class outcome : std::uint8_t {
  ok,    // took effect, with this result
  fail,  // certainly took no effect
  info,  // unknown: took effect at some point after the call, or never
};

// docs/history.md's name of an outcome (an event's "type").
inline const char* outcome_name(outcome o) noexcept {
  switch (o) {
    case outcome::ok: return "ok";
    case outcome::fail: return "fail";
    case outcome::info: return "info";
  }
  return "info";
}

// One operation. Which fields matter depends on `f` (the model reads them):
//   register: read / write a / cas a->b     (a, b: integers; a read's result in `result_number`)
//   kv:       get key / put key value / append key value (a get's result in `result_value`)
//   dkv:      set, setE, setEIfUnset, expire, delete, deleteIfValue, get, has (docs/history.md)
struct operation {
  std::uint32_t process = 0;
  std::uint64_t call_ns = 0;
  std::uint64_t return_ns = never;  // `never` for info: it may take effect any time after the call
  outcome result = outcome::info;
  std::string f;
  std::size_t line = 0;  // of the invocation in the source file, for messages

  // arguments
  std::string key;
  std::string value;
  std::uint64_t expire_in = 0, delete_in = 0;
  std::optional<std::int64_t> a, b;  // register: write value; cas old, new

  // results (ok only)
  bool found = false;                         // get / has / deleteIfValue's "deleted"
  std::optional<std::string> result_value;    // get (dkv, kv)
  std::optional<std::int64_t> result_number;  // register read; empty = nil
  std::optional<std::uint64_t> index;         // dkv: the write index of the result
  int code = 0;                               // dkv: docs/spec.md error code on fail / info
};

// An operation's name in a dkv history ("set", "setE", "deleteIfValue", …),
// and back: none for a name that is not one.
std::string_view history_name(operation_kind kind) noexcept;
std::optional<operation_kind> operation_named(std::string_view f) noexcept;

struct fault_event {
  std::uint64_t time_ns = 0;
  std::string kind;         // partition, heal, crash, restart, …
  std::string description;  // the line's "description", else its kind and other fields
  // The fields the report draws from (docs/history.md): the node struck (0:
  // none named), a partition's groups, a one-way cut's ends (0: none).
  std::uint32_t node = 0;
  std::vector<std::vector<std::uint32_t>> groups;
  std::uint32_t from = 0, to = 0;
};

// A node's Raft role and term as the run saw them change (docs/history.md's
// optional "node" events): role is "follower", "pre-candidate", "candidate",
// "leader", or "stopped" when the node stopped itself; term 0 when not given.
struct node_event {
  std::uint64_t time_ns = 0;
  std::uint32_t node = 0;
  std::string role;
  std::uint64_t term = 0;
};

enum class history_format : std::uint8_t { empty, dkv_json, jepsen_register, edn_kv };

struct history {
  history_format format = history_format::empty;
  std::vector<operation> operations;  // in call order
  std::vector<fault_event> faults;    // in file order
  std::vector<node_event> nodes;      // in file order
  std::size_t node_count = 0;         // the "meta" line's "nodes" (numbered 1..node_count); 0: not given
};

}  // namespace dkv::check
