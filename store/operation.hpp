#pragma once
// The store's operations: one vocabulary for every layer. A layer that
// speaks another — the log command's byte, the wire protocol's message type,
// a history's "f", the client CLI's subcommand — maps to this one at its
// border. The numbers are part of formats on disk and on the wire (the
// log command's byte, the client actor's store_call): never renumber.
//
// C++ reserves `delete`, so dKV's Delete and DeleteIfValue are `remove` and
// `remove_if_value` in code; users see dKV's names (dkv_name).

#include <cstdint>
#include <string_view>

namespace dkv {

enum class operation_kind : std::uint8_t {
  set = 1,
  set_e = 2,
  set_e_if_unset = 3,
  expire = 4,
  remove = 5,           // Delete
  remove_if_value = 6,  // DeleteIfValue
  get = 7,
  has = 8,
  info = 9,  // GetDBInfo
};

inline constexpr operation_kind first_operation = operation_kind::set;
inline constexpr operation_kind last_operation = operation_kind::info;

// Whether a byte names an operation (it came from outside: a file, a peer, a caller).
inline constexpr bool is_operation_code(std::uint8_t code) noexcept {
  return code >= static_cast<std::uint8_t>(first_operation) && code <= static_cast<std::uint8_t>(last_operation);
}

// The six writes: they take the next write index.
inline constexpr bool is_write(operation_kind kind) noexcept { return kind <= operation_kind::remove_if_value; }
inline constexpr bool is_write_code(std::uint8_t code) noexcept {
  return is_operation_code(code) && is_write(static_cast<operation_kind>(code));
}

// Which arguments an operation takes besides its key.
inline constexpr bool takes_value(operation_kind kind) noexcept {
  return kind == operation_kind::set || kind == operation_kind::set_e || kind == operation_kind::set_e_if_unset ||
         kind == operation_kind::remove_if_value;
}
inline constexpr bool takes_schedule(operation_kind kind) noexcept {  // expireIn, deleteIn
  return kind == operation_kind::set_e || kind == operation_kind::set_e_if_unset;
}

// The operation's name as dKV reports it ("SetE", "Delete", …).
inline constexpr std::string_view dkv_name(operation_kind kind) noexcept {
  switch (kind) {
    case operation_kind::set: return "Set";
    case operation_kind::set_e: return "SetE";
    case operation_kind::set_e_if_unset: return "SetEIfUnset";
    case operation_kind::expire: return "Expire";
    case operation_kind::remove: return "Delete";
    case operation_kind::remove_if_value: return "DeleteIfValue";
    case operation_kind::get: return "Get";
    case operation_kind::has: return "Has";
    case operation_kind::info: return "GetDBInfo";
  }
  return "Unknown";
}

}  // namespace dkv
