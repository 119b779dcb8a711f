#pragma once
// Size limits of a store (docs/spec.md, "Limits"). A request at a limit succeeds;
// one byte over is InvalidOperation and consumes no index.

#include <cstdint>
#include <string>
#include <string_view>

#include "store/error.hpp"

namespace dkv {

struct store_limits {
  std::uint64_t max_key_bytes = 64ull << 10;     // 64 KiB
  std::uint64_t max_value_bytes = 128ull << 20;  // 128 MiB (dstore: 16 MiB)

  // Success, or InvalidOperation naming the limit that the request exceeds.
  error check(std::string_view key, std::string_view value = {}) const {
    if (key.size() > max_key_bytes)
      return invalid_operation("key of " + std::to_string(key.size()) + " bytes exceeds the limit of " +
                               std::to_string(max_key_bytes));
    if (value.size() > max_value_bytes)
      return invalid_operation("value of " + std::to_string(value.size()) + " bytes exceeds the limit of " +
                               std::to_string(max_value_bytes));
    return {};
  }
};

}  // namespace dkv
