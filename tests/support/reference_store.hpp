#pragma once
// A reference model of the store, written from docs/spec.md alone and kept as
// plain as possible: an ordered map and a clock. Tests compare the engine,
// lstore and (later) dstore against it.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace dkv::test {

class reference_store {
 public:
  struct entry {
    std::string value;
    std::uint64_t index = 0, expire_at = 0, delete_at = 0;
  };

  std::uint64_t clock() const { return clock_; }
  void advance(std::uint64_t w) { clock_ = std::max(clock_, w); }

  // Writes at index w (> clock). Each evaluates its conditions at w.
  void set(const std::string& k, const std::string& v, std::uint64_t w) { set_e(k, v, 0, 0, w); }
  void set_e(const std::string& k, const std::string& v, std::uint64_t e, std::uint64_t d, std::uint64_t w) {
    entries_[k] = {v, w, after(w, e), after(w, d)};
    clock_ = w;
  }
  void set_e_if_unset(const std::string& k, const std::string& v, std::uint64_t e, std::uint64_t d, std::uint64_t w) {
    auto it = entries_.find(k);
    if (it == entries_.end() || deleted(it->second, w)) entries_[k] = {v, w, after(w, e), after(w, d)};
    clock_ = w;
  }
  void expire(const std::string& k, std::uint64_t w) {
    auto it = entries_.find(k);
    if (it != entries_.end() && live(it->second, w)) {
      it->second.expire_at = w;
      it->second.value.clear();
    }
    clock_ = w;
  }
  void remove(const std::string& k, std::uint64_t w) {
    entries_.erase(k);
    clock_ = w;
  }
  bool remove_if_value(const std::string& k, const std::string& v, std::uint64_t w) {
    auto it = entries_.find(k);
    const bool hit = it != entries_.end() && live(it->second, w) && it->second.value == v;
    if (hit) entries_.erase(it);
    clock_ = w;
    return hit;
  }

  // Reads at the current clock.
  std::optional<std::string> get(const std::string& k) const {
    auto it = entries_.find(k);
    if (it == entries_.end() || !live(it->second, clock_)) return std::nullopt;
    return it->second.value;
  }
  bool has(const std::string& k) const {
    auto it = entries_.find(k);
    return it != entries_.end() && !deleted(it->second, clock_);
  }

 private:
  static std::uint64_t after(std::uint64_t w, std::uint64_t n) {
    if (n == 0) return 0;
    return w > std::numeric_limits<std::uint64_t>::max() - n ? std::numeric_limits<std::uint64_t>::max() : w + n;
  }
  static bool expired(const entry& e, std::uint64_t now) { return e.expire_at != 0 && now >= e.expire_at; }
  static bool deleted(const entry& e, std::uint64_t now) { return e.delete_at != 0 && now >= e.delete_at; }
  static bool live(const entry& e, std::uint64_t now) { return !expired(e, now) && !deleted(e, now); }

  std::uint64_t clock_ = 0;
  std::map<std::string, entry> entries_;
};

}  // namespace dkv::test
