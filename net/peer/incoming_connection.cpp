// A connection a peer opened to us: read in large chunks, every complete
// frame in the buffer delivered before the next read.

#include <cstring>

#include "net/peer/peer_core.hpp"
#include "net/peer/wire.hpp"

namespace dkv::net::detail {

namespace {

constexpr std::size_t initial_buffer = 64u << 10;

}  // namespace

incoming_connection::incoming_connection(peer_core& core, tcp::socket socket)
    : core_(core), socket_(std::move(socket)), buffer_(initial_buffer), wanted_(wire::hello_bytes) {}

void incoming_connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  core_.forget(shared_from_this());
}

void incoming_connection::read_more() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (buffer_.size() > initial_buffer && wanted_ <= initial_buffer) {  // after a giant frame
      buffer_.resize(initial_buffer);
      buffer_.shrink_to_fit();
    }
  }
  // The next unit must fit from begin_, and there must be room to read into.
  if (buffer_.size() - begin_ < wanted_ || end_ == buffer_.size()) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (buffer_.size() < wanted_) buffer_.resize(wanted_);
  }
  socket_.async_read_some(
      asio::buffer(buffer_.data() + end_, buffer_.size() - end_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) { self->on_read(ec, n); });
}

void incoming_connection::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (closed_) return;
  if (ec) return close();  // end of file or a reset: the peer reconnects when it has something to say
  end_ += n;
  if (consume()) read_more();
}

bool incoming_connection::consume() {
  const peer_network_options& options = core_.options();
  for (;;) {
    const char* at = buffer_.data() + begin_;
    const std::size_t available = end_ - begin_;
    if (member_ == 0) {
      wanted_ = wire::hello_bytes;
      if (available < wanted_) return true;
      const std::uint64_t member = wire::get_u64(at + 8);
      if (wire::get_u32(at) != wire::magic || wire::get_u32(at + 4) != wire::version || !core_.is_peer(member)) {
        core_.counters().add(core_.counters().rejected);
        close();
        return false;
      }
      member_ = member;
      begin_ += wire::hello_bytes;
      continue;
    }
    wanted_ = wire::frame_header_bytes;
    if (available < wanted_) return true;
    const wire::frame_header header = wire::get_frame_header(at);
    if (header.length > options.max_frame_bytes) {
      core_.counters().add(core_.counters().undecodable);
      close();
      return false;
    }
    wanted_ = wire::frame_header_bytes + header.length;
    if (available < wanted_) return true;
    core_.deliver(header.group, header.to, at + wire::frame_header_bytes, header.length);
    begin_ += wanted_;
  }
}

}  // namespace dkv::net::detail
