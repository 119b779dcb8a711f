#pragma once
// A blocking loopback socket for poking a protocol server byte by byte.
// Every read is bounded (SO_RCVTIMEO), so a test never hangs and never sleeps.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "net/protocol/frame.hpp"
#include "net/protocol/message.hpp"

namespace dkv::net::test {

class raw_socket {
 public:
  explicit raw_socket(std::uint16_t port, std::chrono::milliseconds read_timeout = std::chrono::seconds(10))
      : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(read_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((read_timeout.count() % 1000) * 1000);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send_bytes(std::string_view bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

  static std::string frame_of(std::uint64_t shard, std::uint64_t request, const message& m) {
    std::string payload;
    encode(m, payload);
    std::string out;
    append_frame(out, shard, request, payload);
    return out;
  }

  void send(std::uint64_t shard, std::uint64_t request, const message& m) { send_bytes(frame_of(shard, request, m)); }

  void shutdown_send() { socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send); }

  enum class outcome { frame, closed, timed_out };

  // Reads one response frame and decodes it.
  outcome read(frame_header& header, message& response) {
    std::string bytes;
    if (outcome o = read_exactly(frame_header_bytes, bytes); o != outcome::frame) return o;
    header = read_frame_header(bytes.data());
    std::string payload;
    if (outcome o = read_exactly(header.length, payload); o != outcome::frame) return o;
    std::string why;
    response = message{};
    if (!decode(payload, response, why)) response.err = "undecodable response: " + why;
    return outcome::frame;
  }

  // Waits (bounded) for the server to close the connection.
  outcome read_until_closed() {
    std::string bytes;
    for (;;) {
      outcome o = read_exactly(1, bytes);
      if (o != outcome::frame) return o;
      bytes.clear();
    }
  }

 private:
  outcome read_exactly(std::size_t n, std::string& out) {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::recv(socket_.native_handle(), out.data() + got, n - got, 0);
      if (r == 0) return outcome::closed;
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return outcome::timed_out;
        return outcome::closed;  // reset by the peer
      }
      got += static_cast<std::size_t>(r);
    }
    return outcome::frame;
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace dkv::net::test
