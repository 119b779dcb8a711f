#pragma once
// The two seams a node's actors see besides the file interface: how its
// messages leave (the simulated network or TCP) and how its own clock runs
// (virtual time with drift and skew, or the real clock). Nothing in actors/
// knows which implementation it has.

#include <caf/message.hpp>

#include <cstdint>

namespace dkv::actors {

using net_address = std::uint64_t;  // a node or a client on the network

class transport {
 public:
  virtual ~transport() = default;
  // One-way: the message may be lost, delayed, duplicated or reordered.
  virtual void send(net_address to, const caf::message& message) = 0;
};

class local_clock {
 public:
  virtual ~local_clock() = default;
  // The node's own reading, in nanoseconds from an arbitrary origin.
  virtual std::uint64_t now_ns() const = 0;
  // How long the scheduler must wait while this node's clock advances
  // `local_ns` (a node whose clock runs fast fires its timers early).
  virtual std::uint64_t scheduler_delay_ns(std::uint64_t local_ns) const = 0;
};

}  // namespace dkv::actors
