#pragma once
// docs/spec.md's store, one key at a time or whole: the state a checker replays
// writes on. Entries follow the logical clock exactly (expireAt = W+e,
// deleteAt = W+d, saturating; expired values gone; Has true until deleted).

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <xxhash.h>

#include "store/operation.hpp"

namespace dkv::check {

struct dkv_entry {
  bool exists = false;
  std::string value;
  std::uint64_t expire_at = 0, delete_at = 0;

  bool expired_at(std::uint64_t w) const { return expire_at != 0 && w >= expire_at; }
  bool deleted_at(std::uint64_t w) const { return delete_at != 0 && w >= delete_at; }
  bool live_at(std::uint64_t w) const { return exists && !expired_at(w) && !deleted_at(w); }
  bool operator==(const dkv_entry&) const = default;
};

struct dkv_op {
  operation_kind kind = operation_kind::get;
  std::uint32_t key = 0;  // dense id
  std::string value;      // argument (writes), or the value a get returned
  std::uint64_t expire_in = 0, delete_in = 0;
  bool found = false;  // get / has result; deleteIfValue's "deleted"
  bool known = true;   // false for info: the result is unknown
};

// Applies a write at index w; returns DeleteIfValue's "deleted".
bool apply_write(dkv_entry& e, const dkv_op& op, std::uint64_t w);
// Whether a read at clock w could have returned what `op` says.
bool read_matches(const dkv_entry& e, const dkv_op& op, std::uint64_t w);

// The whole store as one model for the WGL search (histories without indexes).
struct dkv_store_model {
  struct state {
    std::uint64_t clock = 0;
    std::vector<dkv_entry> entries;  // by key id
    bool operator==(const state&) const = default;
  };
  using op = dkv_op;
  static state initial() { return {}; }
  static std::uint64_t hash(const state& s);
  static bool step(const state& s, const op& o, state& next);
};

}  // namespace dkv::check
