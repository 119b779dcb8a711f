#include "store/lock_manager.hpp"

#include <cstring>

namespace dkv {

std::string lock_manager::new_owner_id() {
  std::string id(owner_id_bytes, '\0');
  for (std::size_t i = 0; i < owner_id_bytes; i += 8) {
    const std::uint64_t word = random64_();
    std::memcpy(id.data() + i, &word, 8);
  }
  return id;
}

lock_acquire_result lock_manager::AcquireLock(std::string_view key, std::uint64_t timeout_writes) {
  lock_acquire_result result;
  result.owner_id = new_owner_id();
  write_result set = store_.SetEIfUnset(key, result.owner_id, 0, timeout_writes);
  if (!set.err.ok()) {
    result.err = std::move(set.err);
    return result;
  }
  get_result held = store_.Get(key);
  if (!held.err.ok()) {
    result.err = std::move(held.err);
    return result;
  }
  result.acquired = held.found && held.value == result.owner_id;
  if (result.acquired) result.index = set.index;
  return result;
}

lock_release_result lock_manager::ReleaseLock(std::string_view key, std::string_view owner_id) {
  delete_if_value_result removed = store_.DeleteIfValue(key, owner_id);
  if (!removed.err.ok()) return {std::move(removed.err), false};
  if (removed.deleted) return {{}, true};
  // Not ours to delete: fine if the lock is gone (expired by its deadline or
  // never taken), a refusal if somebody else holds it.
  has_result present = store_.Has(key);
  if (!present.err.ok()) return {std::move(present.err), false};
  return {{}, !present.found};
}

}  // namespace dkv
