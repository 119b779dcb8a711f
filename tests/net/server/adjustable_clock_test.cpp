// The clock `dkv serve --clock-file` puts under its replicas: a jump moves the
// reading by the skew at once, a drift scales what the timers wait, and a
// skew back never reads below zero. The readings follow the steady clock, so
// the checks leave room for the time the test itself takes.
#include <catch2/catch.hpp>

#include <cstdint>

#include "net/server/adjustable_clock.hpp"

using dkv::net::adjustable_clock;

namespace {

constexpr std::int64_t second = 1'000'000'000;
constexpr std::int64_t slack = second / 2;  // the test's own time between two readings, generously

std::int64_t between(const adjustable_clock& clock, std::uint64_t before) {
  return static_cast<std::int64_t>(clock.now_ns()) - static_cast<std::int64_t>(before);
}

}  // namespace

TEST_CASE("an adjustable clock jumps by the skew it is set to, either way", "[clock]") {
  adjustable_clock clock;
  const std::uint64_t start = clock.now_ns();
  CHECK(start >= static_cast<std::uint64_t>(adjustable_clock::max_skew_ns));  // room for a skew back

  clock.set({.skew_ns = 5 * second, .drift_ppm = 0});
  const std::int64_t ahead = between(clock, start);
  CHECK(ahead >= 5 * second);
  CHECK(ahead < 5 * second + slack);

  const std::uint64_t before_back = clock.now_ns();
  clock.set({.skew_ns = -2 * second, .drift_ppm = 0});  // from 5 s ahead to 2 s behind: 7 s back
  const std::int64_t back = between(clock, before_back);
  CHECK(back <= -7 * second + slack);
  CHECK(back > -7 * second - slack);

  clock.set({.skew_ns = -adjustable_clock::max_skew_ns, .drift_ppm = 0});
  CHECK(clock.now_ns() < static_cast<std::uint64_t>(slack));  // an hour back from the start's hour: near zero, not below
}

TEST_CASE("an adjustable clock's drift scales what its timers wait", "[clock]") {
  adjustable_clock clock;
  CHECK(clock.scheduler_delay_ns(1'000'000) == 1'000'000);
  clock.set({.skew_ns = 0, .drift_ppm = 100'000});  // 10 % fast: a 1.1 ms timer is due after 1 ms
  CHECK(clock.scheduler_delay_ns(1'100'000) == 1'000'000);
  clock.set({.skew_ns = 0, .drift_ppm = -500'000});  // half as fast: twice the wait
  CHECK(clock.scheduler_delay_ns(1'000'000) == 2'000'000);
}
