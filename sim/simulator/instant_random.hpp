#pragma once
// Random draws keyed by the virtual instant rather than taken from one
// stream in turn: the generator for a draw comes from the seed, a key (a
// network link, say), the instant and how many draws that key made at that
// instant before. A run with some of its events removed — a shrinker's
// candidate without a client's call — then draws the same for everything
// that still happens when it did, instead of shifting every later draw by
// one place; its timing stays close to the failing run it came from.

#include <cstdint>
#include <map>

#include "store/rng.hpp"

namespace dkv::sim {

class instant_random {
 public:
  explicit instant_random(std::uint64_t seed) noexcept : seed_(seed) {}

  // The generator for the next draw under `key` at `now_ns`.
  dkv::rng at(std::uint64_t now_ns, std::uint64_t key = 0) {
    instant& last = instants_[key];
    if (last.at_ns != now_ns) last = {now_ns, 0};
    std::uint64_t h = seed_;
    for (std::uint64_t part : {key, now_ns, last.draws++}) h = dkv::rng(h ^ part).next();
    return dkv::rng(h);
  }

 private:
  struct instant {
    std::uint64_t at_ns = 0;
    std::uint64_t draws = 0;  // made at that instant so far
  };
  std::uint64_t seed_;
  std::map<std::uint64_t, instant> instants_;  // by key
};

}  // namespace dkv::sim
