// A connection a peer opened to us: read in large chunks, every complete
// frame in the buffer delivered before the next read.

#include <boost/asio/write.hpp>

#include <cstring>
#include <memory>

#include "net/peer/peer_core.hpp"
#include "net/peer/wire.hpp"

namespace dkv::net::detail {

namespace {

constexpr std::size_t initial_buffer = 64u << 10;

// How long a refused connection is kept open for the peer to read the
// refusal and close its end; a peer that does not is cut off then.
constexpr std::chrono::milliseconds linger_bound{2000};

std::string reason_key(wire::refusal_reason reason) { return std::to_string(static_cast<std::uint32_t>(reason)); }

}  // namespace

incoming_connection::incoming_connection(peer_core& core, tcp::socket socket)
    : core_(core),
      socket_(std::move(socket)),
      buffer_(initial_buffer),
      wanted_(wire::hello_prefix_bytes),
      linger_(core.io()) {}

void incoming_connection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  linger_.cancel();
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
      const hello_state hello = read_hello(at, available);
      if (hello == hello_state::incomplete) return true;
      if (hello == hello_state::refused) return false;
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

incoming_connection::hello_state incoming_connection::read_hello(const char* at, std::size_t available) {
  wanted_ = wire::hello_prefix_bytes;
  if (available < wanted_) return hello_state::incomplete;
  if (wire::get_u32(at) != wire::magic) {  // not a dkv peer: nothing to explain to it
    core_.counters().add(core_.counters().rejected);
    close();
    return hello_state::refused;
  }
  const std::uint32_t version = wire::get_u32(at + 4);
  const std::uint64_t member = wire::get_u64(at + 8);
  boost::system::error_code ec;
  const tcp::endpoint remote = socket_.remote_endpoint(ec);
  const std::string from = ec ? std::string("an unknown address") : remote.address().to_string();
  const std::string source = "in " + from + " member " + std::to_string(member) + " ";
  const std::string prefix =
      core_.listener() + ": refused a connection from " + from + " claiming to be member " + std::to_string(member);
  if (version != wire::version) {
    refuse(wire::refusal_reason::version, source + "version " + std::to_string(version),
           prefix + ": it speaks peer wire version " + std::to_string(version) + ", this dkv speaks version " +
               std::to_string(wire::version) + " (" + (version < wire::version ? "an older" : "a newer") +
               " dkv); every member must run a dkv that speaks the same version");
    return hello_state::refused;
  }
  wanted_ = wire::hello_bytes;
  if (available < wanted_) return hello_state::incomplete;
  const std::uint64_t cluster_id = wire::get_u64(at + 16);
  const std::size_t length = wire::get_u16(at + 24);
  if (length > wire::max_members_bytes) {  // no dkv sends that: a stranger, or a broken peer
    core_.counters().add(core_.counters().rejected);
    close();
    return hello_state::refused;
  }
  wanted_ = wire::hello_bytes + length;
  if (available < wanted_) return hello_state::incomplete;
  const std::string_view members(at + wire::hello_bytes, length);
  const cluster_identity& ours = core_.options().identity;
  if (cluster_id != ours.id) {
    const std::string entry = member_entry(members, member);
    const std::string why = other_cluster(cluster_id, members, ours);
    refuse(wire::refusal_reason::other_cluster, source + id_text(cluster_id),
           prefix + (entry.empty() ? "" : " (" + entry + " in its list)") + ": " + why);
    const auto& claimed = core_.options().claimed_by_other_cluster;
    if (claimed && lists_entry(members, member_entry(ours.members, core_.options().self)))
      claimed((entry.empty() ? "member " + std::to_string(member) : entry) + ", from " + from + ": " + why);
    return hello_state::refused;
  }
  if (!core_.is_peer(member)) {
    const bool self = member == core_.options().self;
    const std::string entry = member_entry(ours.members, member);
    refuse(wire::refusal_reason::not_a_member, source + "not a member",
           prefix + ": " +
               (self ? "that is this process's own number" + (entry.empty() ? "" : ", " + entry) +
                           " (is a second process running as this member?)"
                     : "the cluster has no such member"));
    return hello_state::refused;
  }
  member_ = member;
  begin_ += wanted_;
  core_.heard_hello(member);
  return hello_state::accepted;
}

void incoming_connection::refuse(wire::refusal_reason reason, const std::string& key, const std::string& why) {
  core_.counters().add(core_.counters().rejected);
  core_.complain(key + " " + reason_key(reason), report_level::error, why);
  const cluster_identity& ours = core_.options().identity;
  auto refusal = std::make_shared<std::vector<char>>(wire::encode({wire::version, reason, ours.id, ours.members}));
  begin_ = end_ = 0;
  linger_.expires_after(linger_bound);
  linger_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->close();
  });
  asio::async_write(socket_, asio::buffer(*refusal),
                    [self = shared_from_this(), refusal](const boost::system::error_code& ec, std::size_t) {
                      if (self->closed_) return;
                      if (ec) return self->close();
                      boost::system::error_code ignored;
                      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);  // the refusal, then end of file
                      self->drain();
                    });
}

void incoming_connection::drain() {
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                            if (self->closed_) return;
                            if (ec) return self->close();  // the peer closed: it has read the refusal
                            self->drain();
                          });
}

}  // namespace dkv::net::detail
