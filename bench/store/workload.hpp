#pragma once
// Shared data of the store benchmarks: ~16-byte keys, 128-byte values, key
// orders shuffled once before any timed loop (a fixed seed, so runs compare).

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace dkv::bench {

inline constexpr std::size_t value_bytes = 128;

struct key_set {
  std::vector<std::string> present;  // stored before the timed loop, shuffled
  std::vector<std::string> absent;   // never stored, shuffled
};

inline std::string make_key(std::size_t i, char tag) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%cser%011zu", tag, i);  // 16 bytes
  return buffer;
}

// One key set per size, built on first use and kept for the whole run.
inline const key_set& keys(std::size_t n) {
  static std::vector<std::pair<std::size_t, key_set>> cache;
  for (auto& [size, set] : cache)
    if (size == n) return set;
  key_set set;
  std::mt19937_64 rng(n);
  for (std::size_t i = 0; i < n; ++i) {
    set.present.push_back(make_key(i, 'u'));
    set.absent.push_back(make_key(i, 'x'));
  }
  std::shuffle(set.present.begin(), set.present.end(), rng);
  std::shuffle(set.absent.begin(), set.absent.end(), rng);
  cache.emplace_back(n, std::move(set));
  return cache.back().second;
}

inline const std::string& value() {
  static const std::string v(value_bytes, 'v');
  return v;
}

}  // namespace dkv::bench
