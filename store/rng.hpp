#pragma once
// A small, seedable, platform-independent random generator (xoshiro256**
// seeded through splitmix64). Everything random in dkv — election timeouts,
// simulated faults, lock owner ids in tests — draws from one of these, derived
// from one master seed; nothing uses std::random_device or a global RNG, and
// nothing uses std::uniform_int_distribution (its output differs between
// standard libraries, which would break replay across platforms).

#include <bit>
#include <cstdint>

namespace dkv {

class rng {
 public:
  explicit rng(std::uint64_t seed) noexcept {
    for (auto& word : state_) word = splitmix64(seed);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }
  std::uint64_t operator()() noexcept { return next(); }

  // Uniform in [0, bound), bound > 0 (Lemire's multiply-shift, unbiased).
  std::uint64_t below(std::uint64_t bound) noexcept {
    for (;;) {
      const uint128 product = static_cast<uint128>(next()) * bound;
      const auto low = static_cast<std::uint64_t>(product);
      if (low >= bound || low >= (-bound) % bound) return static_cast<std::uint64_t>(product >> 64);
    }
  }
  // Uniform in [low, high].
  std::uint64_t between(std::uint64_t low, std::uint64_t high) noexcept {
    return high - low == ~std::uint64_t{0} ? next() : low + below(high - low + 1);
  }
  // True with probability p (0 <= p <= 1).
  bool chance(double p) noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

  // An independent generator for a named part of a run (a node, the network…).
  rng derive(std::uint64_t stream) noexcept { return rng(next() ^ splitmix64(stream)); }

 private:
  __extension__ typedef unsigned __int128 uint128;

  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4];
};

}  // namespace dkv
