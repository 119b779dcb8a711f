#pragma once
// One stored key: metadata, key bytes and (small) value bytes in a single
// allocation. Values above `inline_value_limit` live in a separately owned
// std::string so that a large value handed over by rvalue is moved, not copied.

#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

namespace dkv::engine {

inline constexpr std::size_t inline_value_limit = 4096;

struct entry {
  std::uint64_t hash;       // of the key; cached for rehashing and snapshot order
  std::uint64_t index;      // write index of the write that set the value
  std::uint64_t expire_at;  // 0 = never
  std::uint64_t delete_at;  // 0 = never
  std::uint64_t value_size;
  std::string* large_value;  // owned; nullptr when the value is inline
  std::uint32_t key_size;
  std::uint32_t inline_capacity;  // bytes reserved for an inline value
  std::uint32_t queue_refs;       // deadline-queue items pointing here
  bool linked;                    // still in the table (else waiting for queue_refs to drain)

  char* key_data() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* key_data() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const noexcept { return {key_data(), key_size}; }
  std::string_view value() const noexcept {
    return large_value ? std::string_view(*large_value) : std::string_view(key_data() + key_size, value_size);
  }
  bool expired_at(std::uint64_t now) const noexcept { return expire_at != 0 && now >= expire_at; }
  bool deleted_at(std::uint64_t now) const noexcept { return delete_at != 0 && now >= delete_at; }
  bool live_at(std::uint64_t now) const noexcept { return !expired_at(now) && !deleted_at(now); }

  // Bytes this entry accounts for in GetDBInfo's size.
  std::uint64_t footprint() const noexcept {
    return sizeof(entry) + key_size + inline_capacity + (large_value ? large_value->capacity() : 0);
  }

  // Can the value be replaced in place (no new allocation)?
  bool fits_inline(std::size_t size) const noexcept { return size <= inline_capacity; }

  void drop_value() noexcept {
    delete large_value;
    large_value = nullptr;
    value_size = 0;
  }

  // Replaces the value; `owned` (may be null) is stolen when the value goes out of line.
  void assign_value(std::string_view value, std::string* owned) {
    if (fits_inline(value.size()) && value.size() <= inline_value_limit) {
      delete large_value;
      large_value = nullptr;
      if (!value.empty()) std::memmove(key_data() + key_size, value.data(), value.size());
    } else {
      if (!large_value) large_value = new std::string;
      if (owned)
        *large_value = std::move(*owned);
      else
        large_value->assign(value);
    }
    value_size = value.size();
  }

  static entry* make(std::uint64_t hash, std::string_view key, std::string_view value, std::string* owned) {
    const bool inline_value = value.size() <= inline_value_limit;
    const std::size_t capacity = inline_value ? value.size() : 0;
    void* raw = ::operator new(sizeof(entry) + key.size() + capacity);
    auto* e = new (raw)
        entry{hash, 0,   0, 0, 0, nullptr, static_cast<std::uint32_t>(key.size()), static_cast<std::uint32_t>(capacity),
              0,    true};
    if (!key.empty()) std::memcpy(e->key_data(), key.data(), key.size());
    e->assign_value(value, owned);
    return e;
  }

  static void destroy(entry* e) noexcept {
    delete e->large_value;
    e->~entry();
    ::operator delete(e);
  }
};

}  // namespace dkv::engine
