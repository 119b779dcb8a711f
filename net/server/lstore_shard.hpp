#pragma once
// A shard over a local store (an lstore: thread-safe, so every I/O thread
// may call it at once). It answers inline on the calling thread. A lockmgr
// shard also serves lock acquire and release, by a dkv::lock_manager over the
// same store.

#include <memory>
#include <mutex>
#include <random>

#include "net/server/shard.hpp"
#include "store/lock_manager.hpp"
#include "store/lstore.hpp"

namespace dkv::net {

class lstore_shard final : public shard {
 public:
  // `serves_locks`: a lockmgr(lstore) shard; any other refuses lock operations.
  lstore_shard(std::shared_ptr<istore> store, bool serves_locks);

  void handle(message request, std::function<void(message)> reply) override;

  istore& store() { return *store_; }

 private:
  message answer(message&& request);
  std::uint64_t random64();

  std::shared_ptr<istore> store_;
  bool serves_locks_;
  // Owner ids need randomness, not determinism: this is the real world.
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
  lock_manager locks_;
};

}  // namespace dkv::net
