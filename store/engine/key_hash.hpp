#pragma once
// The engine's key hash: XXH3-64 with seed 0. Seed-free on purpose — shard
// placement, snapshot order and digests must be the same in every process.

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace dkv::engine {

inline std::uint64_t key_hash(std::string_view key) noexcept { return XXH3_64bits(key.data(), key.size()); }

}  // namespace dkv::engine
