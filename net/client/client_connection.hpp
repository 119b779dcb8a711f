#pragma once
// The pieces of remote_client's I/O side (internal): a call in progress,
// an endpoint, and one connection to it. All of it is touched only by the
// client's single I/O thread, so none of it locks.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/protocol/frame.hpp"
#include "net/protocol/message.hpp"

namespace dkv::net::detail {

using clock = std::chrono::steady_clock;

struct pending_call {
  std::uint64_t shard = 0;
  message request;
  std::function<void(message)> done;
  clock::time_point deadline;
  bool read_only = false;
  bool on_wire = false;                  // this attempt's bytes were handed to the socket
  std::size_t endpoint = 0;              // the endpoint of this attempt
  std::chrono::milliseconds backoff{0};  // the wait before the next resend
  std::string refusal;                   // why the latest endpoint tried could not take it (its Unavailable)
};
using call_ptr = std::unique_ptr<pending_call>;

struct client_connection;

struct endpoint_state {
  std::string text;
  bool is_unix = false;
  std::string host, port, path;
  std::vector<std::unique_ptr<client_connection>> connections;
  std::size_t next_connection = 0;
  // After a failed connect nobody tries it again before this; the wait
  // doubles with each failure and resets once a connect succeeds.
  clock::time_point down_until{};
  std::chrono::milliseconds backoff{0};
};

struct client_connection {
  client_connection(boost::asio::io_context& io, endpoint_state& ep, std::size_t max_frame_bytes)
      : endpoint(ep), connect_timer(io), reader(max_frame_bytes), read_buffer(64u << 10) {}

  enum class phase : std::uint8_t { idle, connecting, connected };

  endpoint_state& endpoint;
  phase state = phase::idle;
  // Bumped whenever the socket is dropped: a handler of an older socket sees
  // a different number and does nothing.
  std::uint64_t generation = 0;
  std::optional<boost::asio::generic::stream_protocol::socket> socket;
  boost::asio::steady_timer connect_timer;
  std::vector<call_ptr> waiting;                          // for the connect to finish: certainly not sent
  std::unordered_map<std::uint64_t, call_ptr> in_flight;  // by request id
  std::vector<std::uint64_t> unsent;                      // ids in `pending`, not yet handed to a write
  std::string pending, writing;
  bool write_busy = false;
  frame_reader reader;
  std::vector<char> read_buffer;
  std::uint64_t next_request = 1;  // never reset: a stale answer cannot match a new request
};

}  // namespace dkv::net::detail
