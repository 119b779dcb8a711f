#pragma once
// The network client of the protocol (docs/protocol.md): one
// io_context and one I/O thread, a pool of connections per endpoint
// (connected lazily, many requests in flight on each, request ids unique
// per connection), calls spread round-robin over the endpoints.
//
// Honest outcomes (docs/spec.md): a request that was certainly never sent (the
// connection could not be made, or was lost before the request was written,
// or the server answered Unavailable) goes to the next endpoint, with
// backoff, until call_timeout, and then answers Unavailable (code 5). One
// that was sent without an answer (the connection dropped, or call_timeout
// passed) answers Timeout (code 4: maybe applied) if it is a write — a
// write that may have been applied is never sent again — while a read
// (get, has, db info) is tried elsewhere, as is a read the server answered
// Timeout, while the call has time left. Either way the caller receives a
// response message; failures are type 2 (error) with err text and code.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "net/protocol/message.hpp"

namespace dkv::net {

struct remote_client_options {
  std::vector<std::string> endpoints;  // "host:port" or "unix:/path"
  std::chrono::milliseconds call_timeout{10000};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds min_backoff{5};
  std::chrono::milliseconds max_backoff{500};
  std::size_t connections_per_endpoint = 1;
  std::size_t max_frame_bytes = (128u << 20) + (1u << 20);  // the largest response accepted
};

class remote_client {
 public:
  explicit remote_client(remote_client_options options);
  // Answers every call still open (Unavailable if never sent, Timeout for a
  // sent write) and joins the I/O thread.
  ~remote_client();
  remote_client(const remote_client&) = delete;
  remote_client& operator=(const remote_client&) = delete;

  // `done` runs on the I/O thread, exactly once; keep it short.
  void call(std::uint64_t shard, message request, std::function<void(message)> done);
  std::future<message> call(std::uint64_t shard, message request);
  message call_sync(std::uint64_t shard, message request);

  const remote_client_options& options() const noexcept;

  class engine;  // the I/O side (remote_client.cpp)

 private:
  std::unique_ptr<engine> engine_;
};

// True for the request types that only read (get, has, db info): those may
// be sent again after a lost answer.
bool is_read_request(message_type type) noexcept;

}  // namespace dkv::net
