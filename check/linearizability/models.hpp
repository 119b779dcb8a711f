#pragma once
// The models of the external ground truth and of users' own systems:
//   register — read / write / cas on one integer register (Jepsen's etcd logs)
//   kv       — get / put / append on string keys (EDN logs); one state per key id
// Each op says whether its outcome is known: an unknown (info) op's step
// never fails — an effect it could not have had is one it did not have.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xxhash.h>

namespace dkv::check {

struct register_model {
  using state = std::optional<std::int64_t>;  // empty: never written (reads "nil")
  enum class kind : std::uint8_t { read, write, cas };
  struct op {
    kind what;
    std::int64_t a = 0, b = 0;  // write a; cas a -> b
    state read_value;           // what a read returned
    bool known = true;
  };

  static state initial() { return std::nullopt; }
  static std::uint64_t hash(const state& s) {
    return s ? static_cast<std::uint64_t>(*s) * 0x9e3779b97f4a7c15ULL + 1 : 0;
  }
  static bool step(const state& s, const op& o, state& next) {
    next = s;
    switch (o.what) {
      case kind::read: return !o.known || s == o.read_value;
      case kind::write: next = o.a; return true;
      case kind::cas:
        if (s == o.a) {
          next = o.b;
          return true;
        }
        return !o.known;
    }
    return false;
  }
};

struct kv_model {
  using state = std::vector<std::string>;  // value by key id; "" when missing
  enum class kind : std::uint8_t { get, put, append };
  struct op {
    kind what;
    std::uint32_t key;  // id within the partition
    std::string value;  // put / append argument, or what a get returned
    bool known = true;
  };

  static state initial() { return {}; }
  static std::uint64_t hash(const state& s) {
    std::uint64_t h = s.size();
    for (const auto& v : s) h = XXH3_64bits_withSeed(v.data(), v.size(), h);
    return h;
  }
  static bool step(const state& s, const op& o, state& next) {
    const std::string empty;
    const std::string& current = o.key < s.size() ? s[o.key] : empty;
    if (o.what == kind::get) {
      if (o.known && current != o.value) return false;
      next = s;
      return true;
    }
    next = s;
    if (next.size() <= o.key) next.resize(o.key + 1);
    if (o.what == kind::put)
      next[o.key] = o.value;
    else
      next[o.key] += o.value;
    return true;
  }
};

}  // namespace dkv::check
