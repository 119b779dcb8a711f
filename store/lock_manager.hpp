#pragma once
// The lock manager of docs/spec.md, on any IStore.
//
// Acquire is SetEIfUnset(key, owner, 0, timeout) then a Get that checks the
// stored value is ours; release is DeleteIfValue(key, owner) — one applied
// write, so it is atomic. The timeout is a deleteIn on the store's logical
// clock: it counts WRITES TO THE STORE, not seconds (0 = never). An idle store
// never frees a lock; a busy one frees it quickly. The acquiring write's index
// is a fencing token.

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "store/istore.hpp"

namespace dkv {

struct lock_acquire_result {
  error err;
  bool acquired = false;
  std::string owner_id;     // 32 random bytes; keep it to release the lock
  std::uint64_t index = 0;  // the acquiring write's index: a fencing token
};

struct lock_release_result {
  error err;
  bool released = false;  // also true when the lock no longer existed
};

class lock_manager {
 public:
  // `random64` supplies the randomness of owner ids; nothing here owns an RNG.
  lock_manager(istore& store, std::function<std::uint64_t()> random64)
      : store_(store), random64_(std::move(random64)) {}

  // `timeout_writes`: the lock is deleted after that many writes to the store (0 = never).
  lock_acquire_result AcquireLock(std::string_view key, std::uint64_t timeout_writes);
  lock_release_result ReleaseLock(std::string_view key, std::string_view owner_id);

  static constexpr std::size_t owner_id_bytes = 32;

 private:
  std::string new_owner_id();

  istore& store_;
  std::function<std::uint64_t()> random64_;
};

}  // namespace dkv
