#pragma once
// A small test-and-test-and-set lock for the engine's shards: critical sections
// are a probe and a short copy, far below the cost of a futex round trip.

#include <atomic>
#include <thread>

namespace dkv::engine {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class spin_lock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins % 64 == 0)
          std::this_thread::yield();  // the holder may be descheduled
        else
          cpu_relax();
      }
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace dkv::engine
