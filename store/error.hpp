#pragma once
// The store's error: one of docs/spec.md's six codes plus a message. Codes keep
// dKV's numbers because they travel on the wire (docs/protocol.md) and into
// histories, where the checker maps them onto ok / fail / info.

#include <cstdint>
#include <string>
#include <string_view>

namespace dkv {

enum class error_code : std::uint8_t {
  success = 0,
  internal_error = 1,         // failed inside the store: outcome unknown
  unsupported_operation = 2,  // the engine lacks the feature: not applied
  invalid_operation = 3,      // malformed or over a limit: never indexed
  timeout = 4,                // no answer in time: may or may not be applied
  unavailable = 5,            // could never have been applied
};

// dKV's name of a code ("InvalidOperation"), or "Unknown" for a value outside the table.
std::string_view code_name(error_code code) noexcept;

class error {
 public:
  error() = default;
  error(error_code code, std::string message) : code_(code), message_(std::move(message)) {}

  error_code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  bool ok() const noexcept { return code_ == error_code::success; }

  // dKV's wire form: "KVStoreError (code InvalidOperation): key too long".
  std::string to_string() const;

  friend bool operator==(const error&, const error&) = default;

 private:
  error_code code_ = error_code::success;
  std::string message_;
};

inline error internal_error(std::string message) { return {error_code::internal_error, std::move(message)}; }
inline error invalid_operation(std::string message) { return {error_code::invalid_operation, std::move(message)}; }
inline error unsupported_operation(std::string_view op) {
  return {error_code::unsupported_operation, std::string(op) + " operation is not supported"};
}

}  // namespace dkv
