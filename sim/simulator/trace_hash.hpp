#pragma once
// The run's fingerprint (docs/design.md, principle 3): one hash over every
// delivery (virtual time, logical source and destination, the hash of the
// message's serialized bytes — which name its type), every timer armed and
// every fault. The same seed must give the same hash in any process.

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <xxhash.h>

namespace dkv::sim {

// One event as the hash took it (kept on request: replay --check-determinism
// compares two runs event by event).
struct trace_event {
  char kind;  // 'D' delivery, 'T' timer, 'F' fault or scheduled action
  std::uint64_t time_ns;
  std::uint32_t a, b;     // delivery: from, to; timer: node
  std::uint64_t payload;  // delivery: the bytes' hash; timer: delay and tag; fault: the description's hash
  std::uint64_t hash;     // the chain after it
  bool operator==(const trace_event&) const = default;
};

class trace_hash {
 public:
  void keep_events(bool keep) { keep_ = keep; }
  const std::vector<trace_event>& kept() const noexcept { return kept_; }

  void delivery(std::uint64_t time_ns, std::uint32_t from, std::uint32_t to, std::uint64_t bytes_hash) {
    record('D', time_ns, from, to, bytes_hash);
  }
  void timer(std::uint64_t time_ns, std::uint32_t node, std::uint64_t delay_ns, std::uint64_t tag) {
    record('T', time_ns, node, 0, delay_ns ^ (tag * 0x9e3779b97f4a7c15ULL));
  }
  void fault(std::uint64_t time_ns, std::string_view description) {
    record('F', time_ns, 0, 0, XXH3_64bits(description.data(), description.size()));
  }

  std::uint64_t value() const noexcept { return value_; }
  std::uint64_t events() const noexcept { return events_; }

 private:
  void record(char kind, std::uint64_t time, std::uint32_t a, std::uint32_t b, std::uint64_t payload) {
    char bytes[8 + 8 + 4 + 4 + 1];
    std::memcpy(bytes, &time, 8);
    std::memcpy(bytes + 8, &payload, 8);
    std::memcpy(bytes + 16, &a, 4);
    std::memcpy(bytes + 20, &b, 4);
    bytes[24] = kind;
    value_ = XXH3_64bits_withSeed(bytes, sizeof bytes, value_);  // a chain: order matters
    ++events_;
    if (keep_) kept_.push_back({kind, time, a, b, payload, value_});
  }

  std::uint64_t value_ = 0;
  std::uint64_t events_ = 0;
  bool keep_ = false;
  std::vector<trace_event> kept_;
};

}  // namespace dkv::sim
