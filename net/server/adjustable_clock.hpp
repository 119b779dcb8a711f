#pragma once
// A server's clock that a test can set wrong while it runs: the steady clock,
// until set() makes it jump to `skew_ns` off true time and run from there
// (1 + drift_ppm / 10^6) times as fast. dkv serve uses it with --clock-file,
// and dkv-sim's real runs make their clock faults through it. libfaketime
// cannot: the actors' timers wait on a condition variable
// (pthread_cond_clockwait) that it does not fake, so a faked steady clock only
// stalls them.
//
// The simulator's node_clock applies a drift to all of virtual time since the
// run began; here a drift counts from the jump, so a process restarted later
// does not jump by its whole age. Readings start at one hour, so that a skew
// back (at most an hour) never reads below zero.

#include <chrono>
#include <cstdint>
#include <mutex>

#include "actors/clock_error.hpp"
#include "actors/seams.hpp"

namespace dkv::net {

class adjustable_clock final : public actors::local_clock {
 public:
  static constexpr std::int64_t max_skew_ns = 3'600'000'000'000;

  adjustable_clock() : origin_(std::chrono::steady_clock::now()) {}

  void set(actors::clock_error e) {
    std::lock_guard<std::mutex> guard(mutex_);
    since_true_ns_ = true_ns();
    since_local_ns_ = max_skew_ns + since_true_ns_ + e.skew_ns;
    error_ = e;
  }

  std::uint64_t now_ns() const override {
    std::lock_guard<std::mutex> guard(mutex_);
    const std::int64_t passed = true_ns() - since_true_ns_;
    return static_cast<std::uint64_t>(since_local_ns_ + passed + passed / 1'000'000 * error_.drift_ppm);
  }
  std::uint64_t scheduler_delay_ns(std::uint64_t local_ns) const override {
    std::lock_guard<std::mutex> guard(mutex_);
    return error_.true_delay(local_ns);
  }

 private:
  std::int64_t true_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - origin_).count();
  }

  std::chrono::steady_clock::time_point origin_;
  mutable std::mutex mutex_;
  actors::clock_error error_;
  std::int64_t since_true_ns_ = 0;              // when the last set() was
  std::int64_t since_local_ns_ = max_skew_ns;  // and what the clock read then
};

}  // namespace dkv::net
