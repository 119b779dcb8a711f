#pragma once
// The one thread a real run works on: an Asio loop, the run's clock, timers
// on it, and network calls whose answers come back onto it — so the
// workload, the fault schedule and the status polls, like the simulator's
// actions, never run at the same time as each other.

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/client/remote_client.hpp"

namespace dkv::real {

inline constexpr std::uint64_t ms_ns = 1'000'000;

class run_loop {
 public:
  // Thrown out of run_until() and wait_for() once `interrupted` is set (Ctrl-C).
  struct interrupted {};

  explicit run_loop(const std::atomic<bool>* interrupted = nullptr) : interrupted_(interrupted) {}

  // The run's clock: nanoseconds since the last restart_clock() (or the loop's making).
  std::uint64_t now_ns() const;
  void restart_clock() { start_ = std::chrono::steady_clock::now(); }

  // `action` at `t_ns` on the run's clock, or `delay_ns` from now.
  void at(std::uint64_t t_ns, std::function<void()> action);
  void after(std::uint64_t delay_ns, std::function<void()> action);
  // Runs the loop until the clock reaches `t_ns` or `done` holds.
  void run_until(std::uint64_t t_ns, const std::function<bool()>& done = {});
  // Runs the loop until `done` holds.
  void wait_for(const std::function<bool()>& done);

  // A network client for these endpoints (calls time out after `timeout_ns`).
  static std::shared_ptr<net::remote_client> client(std::vector<std::string> endpoints, std::uint64_t timeout_ns);
  // Sends `request` to `shard` through `client`; `done` gets the answer on the loop's thread.
  void call(net::remote_client& client, std::uint64_t shard, net::message request,
            std::function<void(net::message)> done);
  // The same, running the loop until the answer is there.
  net::message call_and_wait(net::remote_client& client, std::uint64_t shard, net::message request);

 private:
  void check_interrupted() const;

  boost::asio::io_context io_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  const std::atomic<bool>* interrupted_;
};

}  // namespace dkv::real
