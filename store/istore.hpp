#pragma once
// IStore: the store contract of docs/spec.md — dKV's eight operations plus
// DeleteIfValue, each result carrying its index. lstore, dstore and the
// network client all implement it and pass the same conformance suite.

#include <string_view>

#include "store/limits.hpp"
#include "store/results.hpp"

namespace dkv {

class istore {
 public:
  virtual ~istore() = default;

  virtual write_result Set(std::string_view key, std::string_view value) = 0;
  virtual write_result SetE(std::string_view key, std::string_view value, std::uint64_t expire_in,
                            std::uint64_t delete_in) = 0;
  virtual write_result SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in,
                                   std::uint64_t delete_in) = 0;
  virtual write_result Expire(std::string_view key) = 0;
  virtual write_result Delete(std::string_view key) = 0;
  virtual delete_if_value_result DeleteIfValue(std::string_view key, std::string_view value) = 0;
  virtual get_result Get(std::string_view key) = 0;
  virtual has_result Has(std::string_view key) = 0;
  virtual db_info_result GetDBInfo() = 0;

  // The limits this store enforces (the conformance suite tests both sides).
  virtual const store_limits& limits() const = 0;
};

}  // namespace dkv
