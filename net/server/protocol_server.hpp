#pragma once
// The protocol server (docs/protocol.md over TCP or a unix socket,
// Boost.Asio): `workers` I/O threads; each connection reads frames, decodes
// them, hands each request to the shard its frame names and writes the
// responses back as they complete, in any order, matched by request id.
// Many requests are in flight per connection; responses that complete while
// a write is under way are batched into the next write.
//
// Requests the server cannot serve (unknown shard, undecodable payload, a
// type the shard does not serve) get a type-2 response with ext code 3. A
// frame longer than max_frame_bytes gets an error response for its request
// id, then the connection is closed (the stream cannot be resynchronised).
// A connection with no bytes received for idle_timeout, and nothing owed to
// it, is closed. Out of descriptors, the server pauses accepting and reports
// it (net/peer/accept_backoff.hpp) while it serves the connections it has.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/peer/accept_backoff.hpp"
#include "net/server/shard.hpp"
#include "store/error.hpp"

namespace dkv::net {

// Set on every accepted TCP connection (not on unix sockets).
struct tcp_connection_options {
  bool no_delay = true;
  std::size_t send_buffer_bytes = 0;           // SO_SNDBUF; 0: the system's
  std::size_t receive_buffer_bytes = 0;        // SO_RCVBUF; 0: the system's
  std::chrono::seconds keepalive{0};           // idle time before probes; 0: no keepalive
  std::optional<std::chrono::seconds> linger;  // SO_LINGER on close; none: off
};

struct protocol_server_options {
  std::string transport = "tcp";  // or "unix"
  std::string endpoint;           // "host:port" (port 0: any) or a socket path
  unsigned workers = 1;           // I/O threads
  tcp_connection_options tcp;
  std::size_t max_frame_bytes = (128u << 20) + (1u << 20);  // a 128 MiB value and its message
  std::chrono::seconds idle_timeout{300};
  report_sink report;  // where the accept loop says it pauses and resumes (none: it says nothing)
};

struct protocol_server_stats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;          // frames received
  std::uint64_t invalid_requests = 0;  // answered with code 3 by the server itself
  std::uint64_t oversize_frames = 0;
  std::uint64_t idle_closes = 0;
};

class protocol_server {
 public:
  protocol_server(protocol_server_options options, std::map<std::uint64_t, std::shared_ptr<shard>> shards);
  ~protocol_server();
  protocol_server(const protocol_server&) = delete;
  protocol_server& operator=(const protocol_server&) = delete;

  // Binds, listens and starts the I/O threads. A clear error (and nothing
  // running) for a busy port, a bad endpoint or a second start.
  error start();
  // The TCP port bound (useful with port 0); 0 for a unix socket or before start.
  std::uint16_t bound_port() const noexcept { return port_; }
  // Stops accepting, closes every connection and joins the threads. Prompt
  // (in-flight shard work is not awaited: its late replies are dropped) and
  // idempotent.
  void stop();

  protocol_server_stats stats() const;

  struct state;  // shared with the connections (implementation detail)

 private:
  protocol_server_options options_;
  std::shared_ptr<state> state_;
  std::uint16_t port_ = 0;
};

}  // namespace dkv::net
