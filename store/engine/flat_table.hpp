#pragma once
// An open-addressing hash table of entry pointers: linear probing over a
// power-of-two array of (hash, entry*) slots, backward-shift deletion (no
// tombstones), grown at 5/8 load (linear probing's runs get long beyond it). Iteration order is never exposed to
// anything observable: callers that need an order sort by (hash, key).
//
// A key's home slot comes from the high bits of its hash, just below the
// top `shard_bits` that pick the engine's shard. Slot order therefore follows
// hash order except inside probe runs and for the run wrapping past the end,
// so sorting a table's entries by hash costs little more than a scan.

#include <bit>
#include <cstdint>
#include <utility>
#include <memory>
#include <string_view>
#include <vector>

#include "store/engine/entry.hpp"

namespace dkv::engine {

inline constexpr unsigned shard_bits = 4;

class flat_table {
 public:
  flat_table() { rehash(16); }
  flat_table(const flat_table&) = delete;
  flat_table& operator=(const flat_table&) = delete;
  flat_table(flat_table&&) noexcept = default;
  flat_table& operator=(flat_table&&) noexcept = default;

  std::size_t size() const noexcept { return size_; }

  entry* find(std::uint64_t hash, std::string_view key) const noexcept {
    for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (!s.item) return nullptr;
      if (s.hash == hash && s.item->key() == key) return s.item;
    }
  }

  // Position of `key`, or of the empty slot where it would go.
  std::size_t probe(std::uint64_t hash, std::string_view key) const noexcept {
    for (std::size_t i = home(hash);; i = (i + 1) & mask_) {
      const slot& s = slots_[i];
      if (!s.item || (s.hash == hash && s.item->key() == key)) return i;
    }
  }
  entry* at(std::size_t position) const noexcept { return slots_[position].item; }
  // Replaces the entry at an occupied position (same key).
  void replace(std::size_t position, entry* e) noexcept { slots_[position].item = e; }
  // Puts a new entry at the empty position that probe returned.
  void insert(std::size_t position, entry* e) {
    slots_[position] = {e->hash, e};
    if (++size_ * max_load_den > (mask_ + 1) * max_load_num) rehash((mask_ + 1) * growth_factor());
  }

  // Removes the entry with this key, if any, and returns it.
  entry* erase(std::uint64_t hash, std::string_view key) noexcept {
    std::size_t i = home(hash);
    for (;; i = (i + 1) & mask_) {
      slot& s = slots_[i];
      if (!s.item) return nullptr;
      if (s.hash == hash && s.item->key() == key) break;
    }
    entry* removed = slots_[i].item;
    // Backward shift: pull later members of the probe run into the hole.
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      slot& s = slots_[j];
      if (!s.item) break;
      const std::size_t start = home(s.hash);
      // Move s into the hole at i when its home is not in (i, j] cyclically.
      const bool movable = i <= j ? (start <= i || start > j) : (start <= i && start > j);
      if (movable) {
        slots_[i] = s;
        s.item = nullptr;
        i = j;
      }
    }
    slots_[i].item = nullptr;
    --size_;
    return removed;
  }

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (std::size_t i = 0; i <= mask_; ++i)
      if (slots_[i].item) fn(slots_[i].item);
  }

  // Like for_each, but hands over the cached hash too, so callers that only
  // order entries need not touch them.
  template <typename Fn>
  void for_each_hashed(Fn&& fn) const {
    for (std::size_t i = 0; i <= mask_; ++i)
      if (slots_[i].item) fn(slots_[i].hash, slots_[i].item);
  }

  void reserve(std::size_t n) {
    std::size_t want = 16;
    while (want * max_load_num < n * max_load_den) want *= 2;
    if (want > mask_ + 1) rehash(want);
  }

  // Hands every entry to `fn` and empties the table.
  template <typename Fn>
  void drain(Fn&& fn) {
    for (std::size_t i = 0; i <= mask_; ++i)
      if (slots_[i].item) fn(std::exchange(slots_[i].item, nullptr));
    size_ = 0;
  }

 private:
  static constexpr std::size_t max_load_num = 5, max_load_den = 8;

  // Small tables quadruple, so a growing store rehashes half as often; large
  // ones double, so the slot array stays small next to the entries.
  std::size_t growth_factor() const noexcept { return mask_ < (std::size_t{1} << 16) ? 4 : 2; }

  struct slot {
    std::uint64_t hash = 0;
    entry* item = nullptr;
  };

  std::size_t home(std::uint64_t hash) const noexcept { return (hash << shard_bits) >> shift_; }

  void rehash(std::size_t capacity) {
    std::unique_ptr<slot[]> old = std::move(slots_);
    const std::size_t old_capacity = old ? mask_ + 1 : 0;
    slots_ = std::make_unique<slot[]>(capacity);
    mask_ = capacity - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
    for (std::size_t i = 0; i < old_capacity; ++i) {
      if (!old[i].item) continue;
      std::size_t j = home(old[i].hash);
      while (slots_[j].item) j = (j + 1) & mask_;
      slots_[j] = old[i];
    }
  }

  std::unique_ptr<slot[]> slots_;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
  std::size_t size_ = 0;
};

}  // namespace dkv::engine
