#pragma once
// A store write as one value: what lstore applies under its writer lock and
// what dstore carries through the replicated log. Validation (feature and
// limits) comes before indexing, so a refused write consumes no index.

#include <cstdint>
#include <string_view>

#include "store/kvdb.hpp"
#include "store/operation.hpp"

namespace dkv {

// The engine feature a write needs.
feature needed_feature(operation_kind kind) noexcept;

// Views into the caller's bytes: a command never owns its key and value.
struct write_command {
  operation_kind kind = operation_kind::set;  // a write (is_write)
  std::string_view key;
  std::string_view value;  // set, set_e, set_e_if_unset, remove_if_value
  std::uint64_t expire_in = 0;
  std::uint64_t delete_in = 0;
};

// Unsupported feature or over a limit: the write must not be indexed.
error validate(const write_command& command, const kvdb& engine, const store_limits& limits);

// The command's identity for the simulator's agreement check: equal for two
// commands that write the same thing (fields the kind does not take are ignored).
std::uint64_t fingerprint(const write_command& command) noexcept;

// Applies a validated command at write index `index`; `deleted` reports
// DeleteIfValue's outcome.
error apply(const write_command& command, kvdb& engine, std::uint64_t index, bool& deleted);

}  // namespace dkv
