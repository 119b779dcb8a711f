#include "net/client/remote_lock_manager.hpp"

#include "net/client/remote_store.hpp"

namespace dkv::net {

lock_acquire_result remote_lock_manager::AcquireLock(std::string_view key, std::uint64_t timeout_writes) {
  message request;
  request.type = message_type::lock_acquire;
  request.key.assign(key);
  request.delete_in = timeout_writes;
  message response = client_->call_sync(shard_, std::move(request));
  lock_acquire_result result;
  result.err = error_of(response);
  if (!result.err.ok()) return result;
  result.acquired = response.ok;
  result.owner_id = std::move(response.value);
  result.index = result.acquired ? meta_index(response.meta) : 0;
  return result;
}

lock_release_result remote_lock_manager::ReleaseLock(std::string_view key, std::string_view owner_id) {
  message request;
  request.type = message_type::lock_release;
  request.key.assign(key);
  request.value.assign(owner_id);
  const message response = client_->call_sync(shard_, std::move(request));
  lock_release_result result;
  result.err = error_of(response);
  if (result.err.ok()) result.released = response.ok;
  return result;
}

}  // namespace dkv::net
