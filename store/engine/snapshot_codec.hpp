#pragma once
// The engine's snapshot format, version 1 (all integers little-endian):
//
//   header   "DKVSNAP\0"  u32 version  u32 flags(0)  u64 write_index  u64 entry_count
//   entry    u32 key_size  u64 value_size  u64 index  u64 expire_at  u64 delete_at  key  value
//   trailer  u64 XXH3-64 of every byte before it
//
// Entries come in (key hash, key) order and hold the logical state at
// write_index: an expired value is written empty, deleted entries are left
// out — so two engines with the same content write the same bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/engine/entry.hpp"
#include "store/error.hpp"
#include "store/limits.hpp"

namespace dkv::engine {

inline constexpr std::uint32_t snapshot_version = 1;

// `ordered` is in (hash, key) order; entries deleted at write_index are skipped.
void encode_snapshot(std::uint64_t write_index, const std::vector<const entry*>& ordered, std::string& out);

// Hash of what encode_snapshot would write, without writing it.
std::uint64_t digest_entries(std::uint64_t write_index, const std::vector<const entry*>& ordered);

struct decoded_snapshot {
  std::uint64_t write_index = 0;
  std::vector<entry*> entries;  // owned until moved into a table
  decoded_snapshot() = default;
  decoded_snapshot(const decoded_snapshot&) = delete;
  decoded_snapshot& operator=(const decoded_snapshot&) = delete;
  ~decoded_snapshot();
};

// Validates magic, version, checksum, bounds and limits before anything is
// used (duplicate keys are the loader's to find); on error `out` is left empty.
error decode_snapshot(std::string_view bytes, const store_limits& limits, decoded_snapshot& out);

}  // namespace dkv::engine
