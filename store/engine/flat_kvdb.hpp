#pragma once
// flat_kvdb: dkv's default engine. Keys are spread over a fixed number of
// shards by a seed-free hash (xxh3), each shard a spin-locked flat table with
// its own deadline queue. Everything observable — snapshots, digests,
// reclamation — is ordered by (hash, key) or (deadline, key), never by slot.

#include <array>
#include <atomic>
#include <memory>

#include "store/engine/deadline_queue.hpp"
#include "store/engine/flat_table.hpp"
#include "store/engine/spin_lock.hpp"
#include "store/kvdb.hpp"

namespace dkv {

class flat_kvdb final : public kvdb {
 public:
  explicit flat_kvdb(store_limits limits = {});
  ~flat_kvdb() override;
  flat_kvdb(const flat_kvdb&) = delete;
  flat_kvdb& operator=(const flat_kvdb&) = delete;

  error Set(std::string_view key, std::string_view value, std::uint64_t index) override;
  error SetOwned(std::string_view key, std::string&& value, std::uint64_t index) override;
  error SetE(std::string_view key, std::string_view value, std::uint64_t expire_in, std::uint64_t delete_in,
             std::uint64_t index) override;
  error SetEIfUnset(std::string_view key, std::string_view value, std::uint64_t expire_in, std::uint64_t delete_in,
                    std::uint64_t index) override;
  error Expire(std::string_view key, std::uint64_t index) override;
  error Delete(std::string_view key, std::uint64_t index) override;
  error DeleteIfValue(std::string_view key, std::string_view value, std::uint64_t index, bool& deleted) override;

  read_status Get(std::string_view key, std::string& value_out) const override;
  read_status Has(std::string_view key) const override;

  std::uint64_t WriteIdx() const override { return clock_.load(std::memory_order_acquire); }
  void SetWriteIdx(std::uint64_t index) override;

  error Save(std::string& out) const override;
  error Load(std::string_view snapshot) override;

  std::size_t GarbageCollect(std::size_t budget) override;
  std::uint32_t Features() const override { return all_features; }
  db_info GetInfo() const override;
  const store_limits& limits() const override { return limits_; }
  std::uint64_t Digest() const override;

  static constexpr std::string_view engine_name = "flat_kvdb";

 private:
  static constexpr std::size_t shard_count = std::size_t{1} << engine::shard_bits;
  struct alignas(64) shard {
    mutable engine::spin_lock lock;
    engine::flat_table table;
    engine::deadline_queue deadlines;
    std::uint64_t bytes = 0;  // footprint of linked entries
  };
  struct write_request;  // one write, described for apply()

  static std::size_t shard_index(std::uint64_t hash) noexcept { return hash >> (64 - engine::shard_bits); }
  shard& shard_of(std::uint64_t hash) const noexcept { return shards_[shard_index(hash)]; }
  error apply(const write_request& request);
  error check_index(std::uint64_t index) const;
  void advance_clock(std::uint64_t index) noexcept;
  void unlink(shard& s, engine::entry* e) noexcept;
  std::size_t reclaim(shard& s, std::uint64_t now, std::size_t budget) noexcept;
  void lock_all() const noexcept;
  void unlock_all() const noexcept;
  void clear() noexcept;
  // Linked entries of every shard (deleted ones included), in (hash, key)
  // order; caller holds all locks.
  std::vector<const engine::entry*> canonical_order() const;

  store_limits limits_;
  std::atomic<std::uint64_t> clock_{0};
  mutable std::array<shard, shard_count> shards_;
};

}  // namespace dkv
