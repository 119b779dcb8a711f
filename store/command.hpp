#pragma once
// A store write as one value: what lstore applies under its writer lock and
// what dstore carries through the replicated log. Validation (feature and
// limits) comes before indexing, so a refused write consumes no index.

#include <cstdint>
#include <string_view>

#include "store/kvdb.hpp"

namespace dkv {

enum class write_kind : std::uint8_t {
  set = 1,
  set_e = 2,
  set_e_if_unset = 3,
  expire = 4,
  remove = 5,  // Delete
  remove_if_value = 6,
};

inline constexpr bool valid_write_kind(std::uint8_t k) noexcept { return k >= 1 && k <= 6; }

// The operation's name as dKV reports it ("SetE", "Delete", …).
std::string_view op_name(write_kind kind) noexcept;
feature needed_feature(write_kind kind) noexcept;

// Views into the caller's bytes: a command never owns its key and value.
struct write_command {
  write_kind kind = write_kind::set;
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
