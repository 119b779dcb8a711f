#pragma once
// Results of store operations. Every result carries `index` (docs/spec.md, "Every
// result carries its index"): for a write the index it was applied at, for a
// read the index of the state that was read.

#include <cstdint>
#include <map>
#include <string>

#include "store/error.hpp"

namespace dkv {

struct write_result {
  error err;
  std::uint64_t index = 0;
};

struct get_result {
  error err;
  bool found = false;
  std::string value;
  std::uint64_t index = 0;
};

struct has_result {
  error err;
  bool found = false;
  std::uint64_t index = 0;
};

struct delete_if_value_result {
  error err;
  bool deleted = false;
  std::uint64_t index = 0;
};

// docs/spec.md's GetDBInfo: approximate, possibly slightly stale.
struct db_info {
  std::uint64_t size_bytes = 0;
  std::string engine;
  std::uint32_t features = 0;
  std::map<std::string, std::string> metadata;  // write_index, key_count, backlogs, ...
};

struct db_info_result {
  error err;
  db_info info;
};

}  // namespace dkv
