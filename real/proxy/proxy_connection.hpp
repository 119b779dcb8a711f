#pragma once
// One connection through the proxy: the sending member's socket, accepted
// on the link's port, and ours to the receiving member. Sender to receiver,
// the hello goes through at once and then each frame on its own schedule
// (lost, copied, held back: link_proxy.hpp); receiver to sender, bytes pass
// as they come. An end that finishes writing (a half close) is passed on as
// one once what was queued behind it is delivered; an error on either side
// closes both.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include "real/proxy/link_state.hpp"

namespace dkv::real::detail {

class proxy_connection : public std::enable_shared_from_this<proxy_connection> {
 public:
  proxy_connection(std::shared_ptr<link_state> link, tcp::socket sender);

  // Connects to the receiver, then forwards both ways. The link must hold
  // this connection already (close() takes it out).
  void start();
  // Closes both ends now; with a reset, so that both members see a broken
  // connection rather than an orderly end.
  void close(bool reset);

 private:
  using clock = std::chrono::steady_clock;
  struct outgoing {
    clock::time_point due;
    std::vector<char> bytes;
    bool frame;  // a frame (which a cut loses), or the hello or raw bytes (which pass)
  };

  void on_connected(const boost::system::error_code& ec);

  // Sender to receiver.
  void read_sender();
  void on_sender_read(const boost::system::error_code& ec, std::size_t n);
  bool take_units();  // false if the connection was closed
  void take_frame(const char* data, std::size_t size);
  void schedule(const char* data, std::size_t size, clock::time_point due, bool frame);
  void deliver();
  void on_delivered(const boost::system::error_code& ec);
  void pop_outgoing();

  // Receiver to sender.
  void read_receiver();
  void on_receiver_read(const boost::system::error_code& ec, std::size_t n);

  void close_if_done();

  std::shared_ptr<link_state> link_;
  tcp::socket sender_, receiver_;
  asio::steady_timer timer_;  // until the next outgoing unit is due

  enum class reading { hello, frames, raw };
  reading reading_ = reading::hello;
  std::vector<char> inbound_;  // from the sender: [begin_, end_) not yet taken apart
  std::size_t begin_ = 0, end_ = 0;

  std::deque<outgoing> outbox_;  // in order of their times
  std::size_t outbox_bytes_ = 0;
  clock::time_point last_due_{};
  bool delivering_ = false;     // a timer wait or a write is under way
  bool sender_paused_ = false;  // not read while the outbox is full
  bool sender_ended_ = false;   // it finished writing

  std::array<char, 16384> backward_{};  // from the receiver, on its way to the sender

  bool forward_done_ = false, backward_done_ = false;  // each end finished and passed on
  bool closed_ = false;
};

}  // namespace dkv::real::detail
