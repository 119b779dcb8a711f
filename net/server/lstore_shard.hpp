#pragma once
// A shard over a local store (an lstore: thread-safe, so every I/O thread
// may call it at once). It answers inline on the calling thread. Lock
// acquire and release are served by a dkv::lock_manager over the same store.

#include <memory>
#include <mutex>
#include <random>

#include "net/server/shard.hpp"
#include "store/lock_manager.hpp"
#include "store/lstore.hpp"

namespace dkv::net {

class lstore_shard final : public shard {
 public:
  explicit lstore_shard(std::shared_ptr<istore> store);

  void handle(message request, std::function<void(message)> reply) override;

  istore& store() { return *store_; }

 private:
  message answer(message&& request);
  message acquire(const message& request);
  message release(const message& request);
  std::uint64_t random64();

  std::shared_ptr<istore> store_;
  // Owner ids need randomness, not determinism: this is the real world.
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
  lock_manager locks_;
};

}  // namespace dkv::net
