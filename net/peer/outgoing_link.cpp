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

// A connection the peer closes this soon, without a word, was likely not
// taken: an older dkv, whose receiver cannot say why it refuses, closes at once.
constexpr std::chrono::milliseconds quiet_close_bound{1000};
constexpr int quiet_closes_reported = 3;  // in a row: one could be a peer stopping

// A buffer left this big by a burst is given back once it is empty.
constexpr std::size_t keep_capacity = 4u << 20;

void release_if_big(std::vector<char>& buffer) {
  if (buffer.capacity() > keep_capacity) std::vector<char>{}.swap(buffer);
}

}  // namespace

outgoing_link::outgoing_link(peer_core& core, std::uint64_t member, peer_endpoint endpoint)
    : core_(core),
      member_(member),
      endpoint_(std::move(endpoint)),
      socket_(core.io()),
      resolver_(core.io()),
      timer_(core.io()),
      backoff_(core.options().reconnect_min),
      reply_(wire::max_refusal_bytes) {
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
  connected_at_ = std::chrono::steady_clock::now();
  reply_size_ = 0;
  watch_for_close(generation);
  // The hello goes first, alone; its completion pumps the queue.
  const cluster_identity& identity = core_.options().identity;
  writing_ = wire::hello(core_.options().self, identity.id, identity.members);
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
  socket_.async_read_some(
      asio::buffer(reply_.data() + reply_size_, reply_.size() - reply_size_),
      [this, generation](const boost::system::error_code& ec, std::size_t n) { on_reply(ec, n, generation); });
}

void outgoing_link::on_reply(const boost::system::error_code& ec, std::size_t n, std::uint64_t generation) {
  if (generation != generation_) return;
  if (!ec) {
    reply_size_ += n;
    const wire::refusal_read read = wire::decode_refusal(reply_.data(), reply_size_);
    if (read.complete) {
      quiet_closes_ = 0;
      report_refusal(read.value);
      backoff_ = core_.options().reconnect_max;  // it will refuse again: ask seldom
      return fail();
    }
    if (read.bad) return fail();  // bytes no dkv peer sends
    return watch_for_close(generation);
  }
  // End of file or a reset: the peer stopped, or would not say why it closed.
  // (A reset counts: a peer that closes with our bytes unread sends one.)
  const bool quiet = reply_size_ == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset) &&
                     std::chrono::steady_clock::now() - connected_at_ < quiet_close_bound;
  if (quiet)
    closed_without_reason();
  else
    quiet_closes_ = 0;
  fail();
}

std::string outgoing_link::who() const {
  const std::string entry = member_entry(core_.options().identity.members, member_);
  const std::string number = "member " + std::to_string(member_);
  return "peer " + (entry.empty() ? number + " at " + endpoint_.host + ":" + std::to_string(endpoint_.port)
                                  : entry + " (" + number + ")");
}

void outgoing_link::report_refusal(const wire::refusal& refusal) {
  const peer_network_options& options = core_.options();
  const std::string key = "out member " + std::to_string(member_) + " " +
                          std::to_string(static_cast<std::uint32_t>(refusal.reason)) + " " +
                          id_text(refusal.cluster_id) + " " + std::to_string(refusal.version);
  std::string why;
  switch (refusal.reason) {
    case wire::refusal_reason::other_cluster:
      why = other_cluster(refusal.cluster_id, refusal.members, options.identity);
      break;
    case wire::refusal_reason::version:
      why = "it speaks peer wire version " + std::to_string(refusal.version) + ", this dkv speaks version " +
            std::to_string(wire::version) + "; every member must run a dkv that speaks the same version";
      break;
    case wire::refusal_reason::not_a_member:
      why = "it does not take member " + std::to_string(options.self) +
            " for another of its members (is a second process running as member " + std::to_string(options.self) + "?)";
      break;
    default:
      why = "for a reason this dkv does not know (" + std::to_string(static_cast<std::uint32_t>(refusal.reason)) +
            ", peer wire version " + std::to_string(refusal.version) + ")";
  }
  core_.complain(key, report_level::error, who() + " refused our connection: " + why);
}

void outgoing_link::closed_without_reason() {
  if (++quiet_closes_ < quiet_closes_reported) return;
  backoff_ = core_.options().reconnect_max;
  // A warning, not an error: it is a guess (a peer restarting three times in a row looks the same).
  core_.complain("out member " + std::to_string(member_) + " quiet", report_level::warn,
                 who() + " closed our last " + std::to_string(quiet_closes_) +
                     " connections right after our hello without a reason: it may run an older dkv (peer wire "
                     "version 1, which cannot say why it refuses) or not be a dkv peer port");
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

void outgoing_link::peer_is_back() {
  quiet_closes_ = 0;
  backoff_ = core_.options().reconnect_min;
  std::lock_guard lock{mutex_};
  if (state_ != link_state::down) return;
  ++generation_;  // the backoff timer's handler, even one already due, is stale now
  timer_.cancel();
  state_ = link_state::idle;  // while down, sends were dropped: nothing waits, the next send connects
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
