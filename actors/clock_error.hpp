#pragma once
// How far a node's clock is off true time: it starts skew_ns off and runs
// (1 + drift_ppm / 10^6) times as fast. The simulator puts it on virtual time
// (sim/simulator/node_clock.hpp), `dkv serve --clock-file` on the steady
// clock (net/server/adjustable_clock.hpp).

#include <algorithm>
#include <cstdint>

namespace dkv::actors {

struct clock_error {
  std::int64_t skew_ns = 0;
  std::int32_t drift_ppm = 0;  // parts per million; positive runs fast

  // The node's reading when true time is `true_ns` (never below 0).
  std::uint64_t local_now(std::uint64_t true_ns) const noexcept {
    const auto scaled =
        static_cast<std::int64_t>(true_ns) + static_cast<std::int64_t>(true_ns) / 1'000'000 * drift_ppm + skew_ns;
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, scaled));
  }

  // How much true time passes while the node's clock advances `local_ns`.
  std::uint64_t true_delay(std::uint64_t local_ns) const noexcept {
    // local ns per 10^6 true ns; split the division so nothing overflows
    const auto rate = static_cast<std::uint64_t>(std::max<std::int64_t>(1, 1'000'000 + drift_ppm));
    return local_ns / rate * 1'000'000 + local_ns % rate * 1'000'000 / rate;
  }
};

}  // namespace dkv::actors
