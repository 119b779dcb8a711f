#include "store/error.hpp"

namespace dkv {

std::string_view code_name(error_code code) noexcept {
  switch (code) {
    case error_code::success: return "Success";
    case error_code::internal_error: return "InternalError";
    case error_code::unsupported_operation: return "UnsupportedOperation";
    case error_code::invalid_operation: return "InvalidOperation";
    case error_code::timeout: return "Timeout";
    case error_code::unavailable: return "Unavailable";
  }
  return "Unknown";
}

std::string error::to_string() const {
  std::string text = "KVStoreError (code ";
  text += code_name(code_);
  text += "): ";
  text += message_;
  return text;
}

}  // namespace dkv
