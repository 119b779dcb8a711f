// One peer's outgoing connection: lazily opened, reopened after a backoff,
// written in batches (see peer_core.hpp for who runs what).

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <string>

#include "net/peer/peer_core.hpp"
#include "net/peer/wire.hpp"

namespace dkv::net::detail {

namespace {

// A connection that cannot be opened in this time counts as failed: a peer
// whose host silently drops packets would otherwise hold the queue for the
// kernel's minutes-long connect timeout.
constexpr std::chrono::milliseconds connect_deadline{2000};

// A buffer left this big by a burst is given back once it is empty.
constexpr std::size_t keep_capacity = 4u << 20;

void release_if_big(std::vector<char>& buffer) {
  if (buffer.capacity() > keep_capacity) std::vector<char>{}.swap(buffer);
}

}  // namespace

outgoing_link::outgoing_link(peer_core& core, peer_endpoint endpoint)
    : core_(core),
      endpoint_(std::move(endpoint)),
      socket_(core.io()),
      resolver_(core.io()),
      timer_(core.io()),
      backoff_(core.options().reconnect_min) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(endpoint_.host, ec);
  if (!ec) numeric_ = tcp::endpoint{address, endpoint_.port};
}

bool outgoing_link::enqueue(const char* frame, std::size_t size) {
  bool post = false;
  {
    std::lock_guard lock{mutex_};
    if (state_ == link_state::down || state_ == link_state::closed) return false;
    if (queued_.size() + size > core_.options().max_queued_bytes) return false;
    queued_.insert(queued_.end(), frame, frame + size);
    ++queued_frames_;
    post = !io_will_look_;
    io_will_look_ = true;
  }
  if (post) asio::post(core_.io(), [this] { pump(); });
  return true;
}

void outgoing_link::pump() {
  std::unique_lock lock{mutex_};
  switch (state_) {
    case link_state::idle:
      state_ = link_state::connecting;  // the connect ends in a pump
      lock.unlock();
      connect();
      return;
    case link_state::connected:
      if (write_under_way_) return;  // its end pumps
      if (queued_.empty()) {
        io_will_look_ = false;
        return;
      }
      writing_.swap(queued_);
      writing_frames_ = queued_frames_;
      queued_frames_ = 0;
      break;
    default:  // connecting: its end pumps; down or closed: nothing is queued
      return;
  }
  lock.unlock();
  write_under_way_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, generation = generation_](const boost::system::error_code& ec, std::size_t) {
                      on_written(ec, generation);
                    });
}

void outgoing_link::connect() {
  const std::uint64_t generation = generation_;
  arm_timer(connect_deadline);
  auto done = [this, generation](const boost::system::error_code& ec, const auto&) { on_connected(ec, generation); };
  if (numeric_) {
    socket_.async_connect(*numeric_, [done](const boost::system::error_code& ec) { done(ec, 0); });
    return;
  }
  resolver_.async_resolve(
      endpoint_.host, std::to_string(endpoint_.port),
      [this, generation, done](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (generation != generation_) return;
        if (ec) return fail();
        asio::async_connect(socket_, results, done);
      });
}

void outgoing_link::on_connected(const boost::system::error_code& ec, std::uint64_t generation) {
  if (generation != generation_) return;
  if (ec) return fail();
  timer_.cancel();
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);  // Raft's small messages must not wait for Nagle
  core_.counters().add(core_.counters().connects);
  backoff_ = core_.options().reconnect_min;
  {
    std::lock_guard lock{mutex_};
    state_ = link_state::connected;
  }
  watch_for_close(generation);
  // The hello goes first, alone; its completion pumps the queue.
  writing_.resize(wire::hello_bytes);
  wire::put_hello(writing_.data(), core_.options().self);
  writing_frames_ = 0;
  write_under_way_ = true;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, generation](const boost::system::error_code& e, std::size_t) { on_written(e, generation); });
}

void outgoing_link::on_written(const boost::system::error_code& ec, std::uint64_t generation) {
  if (generation != generation_) return;
  write_under_way_ = false;
  if (ec) return fail();
  core_.counters().add(core_.counters().sent, writing_frames_);
  writing_frames_ = 0;
  writing_.clear();
  release_if_big(writing_);
  pump();
}

void outgoing_link::watch_for_close(std::uint64_t generation) {
  socket_.async_read_some(asio::buffer(probe_), [this, generation](const boost::system::error_code&, std::size_t) {
    // End of file, a reset, or bytes the peer has no business sending.
    if (generation == generation_) fail();
  });
}

void outgoing_link::fail() {
  ++generation_;
  boost::system::error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  write_under_way_ = false;
  std::uint64_t lost = writing_frames_;
  writing_frames_ = 0;
  writing_.clear();
  release_if_big(writing_);
  {
    std::lock_guard lock{mutex_};
    lost += queued_frames_;
    queued_frames_ = 0;
    queued_.clear();
    release_if_big(queued_);
    if (state_ == link_state::closed) return core_.counters().add(core_.counters().dropped, lost);
    state_ = link_state::down;
    io_will_look_ = false;
  }
  core_.counters().add(core_.counters().dropped, lost);
  arm_timer(backoff_);
  backoff_ = std::min(backoff_ * 2, core_.options().reconnect_max);
}

void outgoing_link::arm_timer(std::chrono::milliseconds after) {
  timer_.expires_after(after);
  timer_.async_wait([this, generation = generation_](const boost::system::error_code& ec) {
    if (ec || generation != generation_) return;  // cancelled, or about an earlier connection
    std::unique_lock lock{mutex_};
    if (state_ == link_state::connecting) {
      lock.unlock();
      fail();  // the connect deadline passed
    } else if (state_ == link_state::down) {
      state_ = link_state::idle;  // the next send connects again
    }
  });
}

void outgoing_link::close() {
  {
    std::lock_guard lock{mutex_};
    state_ = link_state::closed;
  }
  fail();  // closes the socket, drops and counts what was queued
  timer_.cancel();
}

}  // namespace dkv::net::detail
