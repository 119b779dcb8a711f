#pragma once
// A node's own clock in the simulation. CAF's test coordinator has one global
// virtual clock; per-node drift and skew are this seam: a node reads its time
// and arms its timers only through its node_clock, whose rate is
// (1 + drift_ppm / 10^6) times virtual time and which starts skew_ns off.

#include <algorithm>
#include <cstdint>

namespace dkv::sim {

struct node_clock {
  std::int64_t skew_ns = 0;
  std::int32_t drift_ppm = 0;  // parts per million; positive runs fast

  // The node's reading when virtual time is `virtual_ns` (never below 0).
  std::uint64_t local_now(std::uint64_t virtual_ns) const noexcept {
    const auto scaled =
        static_cast<std::int64_t>(virtual_ns) + static_cast<std::int64_t>(virtual_ns) / 1'000'000 * drift_ppm + skew_ns;
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, scaled));
  }

  // How much virtual time passes while the node's clock advances `local_ns`.
  std::uint64_t virtual_delay(std::uint64_t local_ns) const noexcept {
    // local ns per 10^6 virtual ns; split the division so nothing overflows
    const auto rate = static_cast<std::uint64_t>(std::max<std::int64_t>(1, 1'000'000 + drift_ppm));
    return local_ns / rate * 1'000'000 + local_ns % rate * 1'000'000 / rate;
  }
};

}  // namespace dkv::sim
