#pragma once
// docs/spec.md's lock manager over the network: protocol types 10 (acquire) and
// 11 (release), served by the shard's own lock manager. The timeout counts
// WRITES TO THE STORE, not seconds (0 = never); the acquiring write's index
// (ext meta) is a fencing token.

#include <memory>

#include "net/client/remote_client.hpp"
#include "store/lock_manager.hpp"

namespace dkv::net {

class remote_lock_manager {
 public:
  remote_lock_manager(std::shared_ptr<remote_client> client, std::uint64_t shard)
      : client_(std::move(client)), shard_(shard) {}

  lock_acquire_result AcquireLock(std::string_view key, std::uint64_t timeout_writes);
  lock_release_result ReleaseLock(std::string_view key, std::string_view owner_id);

 private:
  std::shared_ptr<remote_client> client_;
  std::uint64_t shard_;
};

}  // namespace dkv::net
