#pragma once
// The network faults of a real run: a TCP proxy on every directed link
// between two dkv serve processes on loopback. Member i dials the link's
// listen port for member j (instead of j's peer port); the proxy connects on
// to j and forwards what i writes frame by frame (net/peer/wire.hpp), so that
// it can lose, copy or hold back whole frames as the simulator does with its
// messages (sim/network/sim_network.hpp):
//
//   - a frame read while its link is cut is lost, and so is one that was on
//     its way when the link was cut (the cut is checked again on arrival);
//   - otherwise it is dropped with probability `drop`, else sent once more
//     with probability `duplicate`, each copy after a latency drawn from
//     [min, max]; unlike the simulator's messages, frames of one connection
//     never overtake each other (a TCP stream cannot reorder), so a frame
//     arrives at the later of its own time and the previous frame's.
//
// The hello is forwarded at once and never lost, even on a cut link, and the
// bytes the receiver writes back (a refusal) pass unchanged: faults concern
// Raft's traffic, not the handshake. A cut keeps the connections open and
// silent, as a real partition blackholes packets instead of resetting them;
// reset() is the broken connection. A frame header announcing more than
// 256 MiB (peer_network's bound) closes both ends at once, like reset() but
// without the reset: after it, nobody knows where the next frame starts.
//
// All sockets and state live on one I/O thread of the proxy's own; the
// control calls below may come from any thread (each waits for that thread
// to carry it out). Member numbers are 1-based, as sim::node_id.

#include <cstdint>
#include <memory>

namespace dkv::real {

using member_id = std::uint32_t;

// Like sim::link_faults, but the default is a plain pipe.
struct link_faults {
  std::uint64_t min_latency_ns = 0;
  std::uint64_t max_latency_ns = 0;
  double drop = 0;       // probability that a frame is lost
  double duplicate = 0;  // probability that a frame is delivered twice
};

// What one link did, over all its connections so far.
struct link_stats {
  std::uint64_t connections = 0;       // accepted from the sender
  std::uint64_t open_connections = 0;  // accepted and not yet closed (one may still be connecting on)
  std::uint64_t frames = 0;            // read from the sender
  std::uint64_t forwarded = 0;         // written to the receiver, copies included
  std::uint64_t dropped = 0;           // by the drop probability
  std::uint64_t duplicated = 0;        // extra copies made
  std::uint64_t cut = 0;               // lost to a cut, when read or on arrival
  std::uint64_t bytes = 0;             // of the frames forwarded, headers included (not the hello)
};

class link_proxy {
 public:
  // `seed` draws every link's faults; each link has a generator of its own
  // derived from it, so one link's traffic does not change another's draws.
  explicit link_proxy(std::uint64_t seed);
  ~link_proxy();  // stop()
  link_proxy(const link_proxy&) = delete;
  link_proxy& operator=(const link_proxy&) = delete;

  // Listens on 127.0.0.1:`listen_port` (0: a port the kernel picks) for
  // member `from`'s connections to member `to`, whose peer port is
  // 127.0.0.1:`target_port`; returns the port it listens on. Throws
  // std::invalid_argument for a link added before, boost::system::system_error
  // if it cannot listen, std::logic_error after stop().
  std::uint16_t add_link(member_id from, member_id to, std::uint16_t target_port, std::uint16_t listen_port = 0);

  // The calls below that name a link throw std::out_of_range for one never added.
  void set_cut(member_id from, member_id to, bool cut);
  void heal();  // every link uncut
  // For every link, from the next frame on (frames already on their way keep their
  // times); std::invalid_argument if min > max or a probability is outside [0, 1].
  void set_faults(const link_faults& faults);
  // Closes both ends of every open connection of the link at once, with a
  // reset (a broken connection; the sender will dial again).
  void reset(member_id from, member_id to);
  link_stats stats(member_id from, member_id to) const;

  // Closes every listener and connection and joins the I/O thread. Idempotent;
  // stats() still answers afterwards.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace dkv::real
