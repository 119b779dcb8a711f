#include "real/proxy/proxy_connection.hpp"

#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>

#include "net/peer/wire.hpp"

namespace dkv::real::detail {

namespace wire = dkv::net::wire;

namespace {

// A frame announcing more than this cannot be a dkv peer's (peer_network's
// default bound): past it we no longer trust where the next frame starts.
constexpr std::size_t max_frame_bytes = 256u << 20;

// The sender is not read while this much waits to be delivered, so a slow
// or held-back receiver slows the sender down as TCP would.
constexpr std::size_t max_outbox_bytes = 64u << 20;

constexpr std::size_t read_chunk = 64u << 10;

}  // namespace

proxy_connection::proxy_connection(std::shared_ptr<link_state> link, tcp::socket sender)
    : link_(std::move(link)),
      sender_(std::move(sender)),
      receiver_(sender_.get_executor()),
      timer_(sender_.get_executor()),
      inbound_(read_chunk) {}

void proxy_connection::start() {
  receiver_.async_connect(link_->target,
                          [self = shared_from_this()](const boost::system::error_code& ec) { self->on_connected(ec); });
}

void proxy_connection::on_connected(const boost::system::error_code& ec) {
  if (closed_) return;
  // The receiver is not there: the sender sees its connection closed, the
  // nearest we can come to a refused connect.
  if (ec) return close(false);
  boost::system::error_code ignored;
  // Raft's small messages must not wait for Nagle on our hop either.
  sender_.set_option(tcp::no_delay(true), ignored);
  receiver_.set_option(tcp::no_delay(true), ignored);
  read_sender();
  read_receiver();
}

void proxy_connection::close(bool reset) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  if (reset) {
    // Linger zero: close sends a reset instead of an orderly end.
    sender_.set_option(asio::socket_base::linger(true, 0), ignored);
    receiver_.set_option(asio::socket_base::linger(true, 0), ignored);
  }
  sender_.close(ignored);
  receiver_.close(ignored);
  timer_.cancel();
  link_->connections.erase(shared_from_this());
}

void proxy_connection::close_if_done() {
  if (forward_done_ && backward_done_) close(false);
}

// --- sender to receiver ------------------------------------------------------

void proxy_connection::read_sender() {
  // Keep what is not taken apart yet at the front, and room to read behind it.
  if (begin_ > 0) {
    std::memmove(inbound_.data(), inbound_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == 0 && inbound_.size() > 16 * read_chunk)
    std::vector<char>(read_chunk).swap(inbound_);  // after a big frame
  if (inbound_.size() - end_ < read_chunk) inbound_.resize(end_ + read_chunk);
  sender_.async_read_some(
      asio::buffer(inbound_.data() + end_, inbound_.size() - end_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_sender_read(ec, n); });
}

void proxy_connection::on_sender_read(const boost::system::error_code& ec, std::size_t n) {
  if (closed_) return;
  if (ec == asio::error::eof) {
    // Whatever part of a frame came last is lost with the connection, as
    // the receiver would discard it; the rest is delivered, then the end.
    sender_ended_ = true;
    return deliver();
  }
  if (ec) return close(false);
  end_ += n;
  if (!take_units()) return;
  deliver();
  if (outbox_bytes_ >= max_outbox_bytes)
    sender_paused_ = true;  // pop_outgoing() reads again when there is room
  else
    read_sender();
}

bool proxy_connection::take_units() {
  for (;;) {
    const char* at = inbound_.data() + begin_;
    const std::size_t have = end_ - begin_;
    switch (reading_) {
      case reading::raw:
        if (have > 0) schedule(at, have, clock::now(), false);
        begin_ = end_;
        return true;
      case reading::hello: {
        // Anything but a version 2 hello goes through as a plain stream: we
        // cannot know its framing, and the receiver refuses it anyway.
        const bool bad = (have >= 4 && wire::get_u32(at) != wire::magic) ||
                         (have >= 8 && wire::get_u32(at + 4) != wire::version) ||
                         (have >= wire::hello_bytes && wire::get_u16(at + 24) > wire::max_members_bytes);
        if (bad) {
          reading_ = reading::raw;
          continue;
        }
        if (have < wire::hello_bytes) return true;
        const std::size_t size = wire::hello_bytes + wire::get_u16(at + 24);
        if (have < size) return true;
        schedule(at, size, clock::now(), false);
        begin_ += size;
        reading_ = reading::frames;
        continue;
      }
      case reading::frames: {
        if (have < wire::frame_header_bytes) return true;
        const std::uint32_t length = wire::get_frame_header(at).length;
        if (length > max_frame_bytes) {
          close(false);
          return false;
        }
        const std::size_t size = wire::frame_header_bytes + length;
        if (have < size) return true;
        take_frame(at, size);
        begin_ += size;
        continue;
      }
    }
  }
}

// The simulator's order (sim_network::route): the cut, then the drop, then
// the duplicate, then a latency for each copy.
void proxy_connection::take_frame(const char* data, std::size_t size) {
  link_state& link = *link_;
  ++link.stats.frames;
  if (link.cut) {
    ++link.stats.cut;
    return;
  }
  if (link.random.chance(link.faults.drop)) {
    ++link.stats.dropped;
    return;
  }
  const int copies = link.random.chance(link.faults.duplicate) ? 2 : 1;
  link.stats.duplicated += static_cast<std::uint64_t>(copies - 1);
  const auto now = clock::now();
  for (int i = 0; i < copies; ++i) {
    const std::uint64_t latency = link.random.between(link.faults.min_latency_ns, link.faults.max_latency_ns);
    schedule(data, size, now + std::chrono::nanoseconds(latency), true);
  }
}

void proxy_connection::schedule(const char* data, std::size_t size, clock::time_point due, bool frame) {
  // A stream cannot reorder: nothing is delivered before what came ahead of it.
  last_due_ = std::max(due, last_due_);
  outbox_.push_back({last_due_, std::vector<char>(data, data + size), frame});
  outbox_bytes_ += size;
}

void proxy_connection::pop_outgoing() {
  outbox_bytes_ -= outbox_.front().bytes.size();
  outbox_.pop_front();
  if (sender_paused_ && outbox_bytes_ < max_outbox_bytes) {
    sender_paused_ = false;
    read_sender();
  }
}

void proxy_connection::deliver() {
  if (delivering_ || closed_) return;
  while (!outbox_.empty()) {
    outgoing& next = outbox_.front();
    if (next.due > clock::now()) {
      delivering_ = true;
      timer_.expires_at(next.due);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code&) {
        self->delivering_ = false;
        self->deliver();
      });
      return;
    }
    if (next.frame && link_->cut) {  // cut while on its way
      ++link_->stats.cut;
      pop_outgoing();
      continue;
    }
    delivering_ = true;
    asio::async_write(
        receiver_, asio::buffer(next.bytes),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) { self->on_delivered(ec); });
    return;
  }
  if (sender_ended_ && !forward_done_) {
    forward_done_ = true;
    boost::system::error_code ignored;
    receiver_.shutdown(tcp::socket::shutdown_send, ignored);
    close_if_done();
  }
}

void proxy_connection::on_delivered(const boost::system::error_code& ec) {
  delivering_ = false;
  if (closed_) return;
  if (ec) return close(false);
  if (outbox_.front().frame) {
    ++link_->stats.forwarded;
    link_->stats.bytes += outbox_.front().bytes.size();
  }
  pop_outgoing();
  deliver();
}

// --- receiver to sender ------------------------------------------------------

void proxy_connection::read_receiver() {
  receiver_.async_read_some(asio::buffer(backward_),
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                              self->on_receiver_read(ec, n);
                            });
}

void proxy_connection::on_receiver_read(const boost::system::error_code& ec, std::size_t n) {
  if (closed_) return;
  if (ec == asio::error::eof) {
    backward_done_ = true;
    boost::system::error_code ignored;
    sender_.shutdown(tcp::socket::shutdown_send, ignored);
    return close_if_done();
  }
  if (ec) return close(false);
  asio::async_write(sender_, asio::buffer(backward_.data(), n),
                    [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                      if (self->closed_) return;
                      if (e) return self->close(false);
                      self->read_receiver();
                    });
}

}  // namespace dkv::real::detail
