#include "check/history/history.hpp"

namespace dkv::check {

std::string_view history_name(operation_kind kind) noexcept {
  switch (kind) {
    case operation_kind::set: return "set";
    case operation_kind::set_e: return "setE";
    case operation_kind::set_e_if_unset: return "setEIfUnset";
    case operation_kind::expire: return "expire";
    case operation_kind::remove: return "delete";
    case operation_kind::remove_if_value: return "deleteIfValue";
    case operation_kind::get: return "get";
    case operation_kind::has: return "has";
    case operation_kind::info: return "info";
  }
  return "unknown";
}

std::optional<operation_kind> operation_named(std::string_view f) noexcept {
  for (auto code = static_cast<std::uint8_t>(first_operation); code <= static_cast<std::uint8_t>(last_operation);
       ++code)
    if (history_name(static_cast<operation_kind>(code)) == f) return static_cast<operation_kind>(code);
  return std::nullopt;
}

}  // namespace dkv::check
