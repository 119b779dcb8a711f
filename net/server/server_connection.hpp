#pragma once
// One accepted connection of the protocol server (internal to
// protocol_server.cpp). Everything it does runs on its strand, except a
// shard's late reply, which encodes its frame on the shard's thread and
// posts it to the strand; replies answered inline (an lstore shard) are
// appended straight to the output. A write is issued when the read batch is
// done or when the previous write finishes, so responses go out in batches.

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/protocol/frame.hpp"
#include "net/protocol/message.hpp"
#include "net/server/protocol_server.hpp"
#include "net/server/shard.hpp"

namespace dkv::net::detail {

class server_connection;

// What outlives the server for late replies: whether the server stopped
// (then replies are dropped: its io_context may be gone), and every live
// connection, so that stop() can free their Asio objects while the
// io_context still exists.
struct server_gate {
  std::shared_mutex stop_mutex;
  bool stopped = false;
  std::mutex registry_mutex;
  std::unordered_map<server_connection*, std::weak_ptr<server_connection>> registry;
};

// The counters behind protocol_server::stats().
struct server_counters {
  std::atomic<std::uint64_t> accepted{0}, open{0}, requests{0}, invalid{0}, oversize{0}, idle_closes{0};
};

// The part of the server a connection reads on its strand (it outlives every
// handler: the threads are joined before it goes).
struct server_context {
  const std::map<std::uint64_t, std::shared_ptr<shard>>& shards;
  std::size_t max_frame_bytes;
  std::chrono::steady_clock::duration idle_timeout;
  server_counters& counters;
};

using stream_socket = boost::asio::generic::stream_protocol::socket;
using connection_strand = boost::asio::strand<boost::asio::io_context::executor_type>;

class server_connection : public std::enable_shared_from_this<server_connection> {
 public:
  server_connection(stream_socket socket, connection_strand strand, const server_context& context,
                    std::shared_ptr<server_gate> gate);
  ~server_connection();

  void start();
  // Frees the socket, timer and strand (stop(), with no I/O thread running).
  void release();

 private:
  void read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes);
  void dispatch(const frame_header& header, std::string_view payload);
  std::function<void(message)> reply_to(const frame_header& header);
  void complete(std::shared_ptr<server_connection> self, std::uint64_t shard, std::uint64_t request, message response);
  void append(std::uint64_t shard, std::uint64_t request, const message& response);
  void flush();
  void on_written(const boost::system::error_code& ec);
  void arm_idle_timer(std::chrono::steady_clock::time_point deadline);
  void on_idle(const boost::system::error_code& ec);
  void close_when_done();
  void close();

  const server_context& context_;
  std::shared_ptr<server_gate> gate_;
  std::optional<connection_strand> strand_;  // the socket's executor too
  std::optional<stream_socket> socket_;
  std::optional<boost::asio::steady_timer> idle_timer_;

  frame_reader reader_;
  std::vector<char> read_buffer_;
  std::string pending_;  // responses not yet handed to a write
  std::string writing_;  // the bytes of the write under way
  bool write_busy_ = false;
  bool reading_done_ = false;  // EOF, error or an oversize frame: read no more
  bool closed_ = false;
  std::size_t in_flight_ = 0;  // requests handed to a shard, not yet answered
  std::chrono::steady_clock::time_point last_read_;
};

}  // namespace dkv::net::detail
