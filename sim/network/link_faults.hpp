#pragma once
// How a simulated link misbehaves: each message takes a latency drawn
// uniformly from [min, max] (so messages overtake each other), and is dropped
// or duplicated (the copy with its own latency) with the given probabilities.

#include <cstdint>

namespace dkv::sim {

struct link_faults {
  std::uint64_t min_latency_ns = 500'000;    // 0.5 ms
  std::uint64_t max_latency_ns = 2'000'000;  // 2 ms
  double drop = 0;
  double duplicate = 0;
};

// The same latencies without drops or duplicates: a network once the faults end.
inline link_faults calm(link_faults f) {
  f.drop = f.duplicate = 0;
  return f;
}

struct network_stats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;  // by the drop probability
  std::uint64_t duplicated = 0;
  std::uint64_t cut = 0;         // lost to a partition (at send or on arrival) or a stopped node
  std::uint64_t unroutable = 0;  // no such endpoint, or not serializable
  std::uint64_t bytes = 0;       // serialized bytes sent
};

}  // namespace dkv::sim
