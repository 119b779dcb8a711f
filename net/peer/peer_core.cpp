// peer_network's core: the send path (in the caller's thread), delivery
// (in the I/O thread), listening, and the start and stop of the I/O thread.

#include <boost/asio/post.hpp>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/send.hpp>

#include <limits>
#include <string>

#include "net/peer/peer_core.hpp"
#include "net/peer/wire.hpp"

namespace dkv::net::detail {

namespace {

std::string where(const peer_endpoint& e) { return e.host + ":" + std::to_string(e.port); }

// A thread's scratch buffer for serializing, reused from one send to the
// next (no allocation per message) and given back after a big one.
std::vector<char>& scratch() {
  thread_local std::vector<char> buffer;
  if (buffer.capacity() > (1u << 20)) std::vector<char>{}.swap(buffer);
  buffer.clear();
  return buffer;
}

}  // namespace

peer_core::peer_core(caf::actor_system& system, peer_network_options options)
    : system_(system), options_(std::move(options)), acceptor_(io_), accept_timer_(io_) {
  for (const auto& [member, endpoint] : options_.members)
    if (member != options_.self) links_.emplace(member, std::make_unique<outgoing_link>(*this, member, endpoint));
}

peer_core::~peer_core() { stop(); }

dkv::error peer_core::start() {
  std::lock_guard lock{lifecycle_mutex_};
  if (started_ || stopped_) return invalid_operation("peer_network: start() may be called once, before stop()");
  const auto self = options_.members.find(options_.self);
  if (self == options_.members.end())
    return invalid_operation("peer_network: self (" + std::to_string(options_.self) + ") is not among the members");
  for (const auto& [member, endpoint] : options_.members) {
    if (member == 0 || member > std::numeric_limits<std::uint32_t>::max())
      return invalid_operation("peer_network: member " + std::to_string(member) + " is not in 1..2^32-1");
    if (member != options_.self && endpoint.port == 0)
      return invalid_operation("peer_network: member " + std::to_string(member) + " has no port");
  }
  const peer_endpoint& listen_on = self->second;
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  if (const auto address = asio::ip::make_address(listen_on.host, ec); !ec) {
    endpoint = {address, listen_on.port};
  } else {
    tcp::resolver resolver{io_};
    const auto results = resolver.resolve(listen_on.host, std::to_string(listen_on.port), ec);
    if (ec || results.empty()) return {error_code::unavailable, where(listen_on) + ": " + ec.message()};
    endpoint = results.begin()->endpoint();
  }
  const auto failed = [&](const boost::system::error_code& e) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return dkv::error{error_code::unavailable, where(listen_on) + ": " + e.message()};
  };
  if (acceptor_.open(endpoint.protocol(), ec)) return failed(ec);
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec)) return failed(ec);
  if (acceptor_.bind(endpoint, ec)) return failed(ec);
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return failed(ec);
  bound_port_ = acceptor_.local_endpoint(ec).port();
  listener_ = "peers on " + where(listen_on);
  started_ = true;
  accepting_sends_ = true;
  work_.emplace(io_.get_executor());
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
  return {};
}

void peer_core::stop() {
  {
    std::lock_guard lock{lifecycle_mutex_};
    if (stopped_) return;
    stopped_ = true;
    accepting_sends_ = false;
    if (started_) {
      asio::post(io_, [this] { close_all(); });
      work_.reset();  // run() returns once every aborted operation has completed
      thread_.join();
    }
  }
  // The attached actors hold transports, which hold this core: forget them,
  // or neither would ever be freed.
  std::map<std::pair<std::uint64_t, actors::net_address>, caf::actor> routes;
  {
    std::lock_guard lock{routes_mutex_};
    routes.swap(routes_);
    routes_closed_ = true;
  }
}

void peer_core::close_all() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  accept_timer_.cancel();  // else run() would wait out a pause
  for (auto& [member, link] : links_) link->close();
  const auto connections = incoming_;  // close() erases from incoming_
  for (const auto& c : connections) c->close();
}

void peer_core::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;  // stopping
    if (accept_backoff::is_shortage(ec)) {
      // Out of descriptors: the connection stays in the backlog, and accepting
      // at once would fail at once, round and round. Wait for some to be freed.
      accept_timer_.expires_after(accept_backoff_.pause(ec, listener_, incoming_.size(), options_.report));
      accept_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e && acceptor_.is_open()) accept_next();
      });
      return;
    }
    if (!ec) {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<incoming_connection>(*this, std::move(socket));
      incoming_.insert(connection);
      accept_backoff_.accepted(listener_, incoming_.size(), options_.report);
      connection->start();
    }
    accept_next();  // another error (a connection reset in the backlog, …) is about one connection
  });
}

void peer_core::complain(const std::string& key, report_level level, const std::string& text) {
  std::uint64_t held_back = 0;
  if (!options_.report || !complaints_.admit(key, std::chrono::steady_clock::now(), held_back)) return;
  options_.report(
      level, held_back == 0 ? text : text + " (and " + std::to_string(held_back) + " times since the last report)");
}

void peer_core::send(std::uint64_t group, actors::net_address to, const caf::message& message) {
  if (!accepting_sends_.load(std::memory_order_relaxed)) return counters_.add(counters_.dropped);
  const std::uint64_t member = member_of(to);
  if (member == options_.self) {
    if (auto target = route(group, to)) {
      counters_.add(counters_.sent);
      caf::anon_send(*target, message);
      return;
    }
    return counters_.add(counters_.dropped);
  }
  const auto link = links_.find(member);
  if (link == links_.end()) return counters_.add(counters_.dropped);
  // The frame, header first; the serializer appends after what is there.
  std::vector<char>& frame = scratch();
  frame.resize(wire::frame_header_bytes);
  caf::binary_serializer sink{system_, frame};
  if (sink(const_cast<caf::message&>(message))) return counters_.add(counters_.dropped);
  const std::size_t length = frame.size() - wire::frame_header_bytes;
  if (length > options_.max_frame_bytes || length > std::numeric_limits<std::uint32_t>::max())
    return counters_.add(counters_.dropped);  // the peer would close the connection over it
  wire::put_frame_header(frame.data(), {group, to, static_cast<std::uint32_t>(length)});
  if (!link->second->enqueue(frame.data(), frame.size())) counters_.add(counters_.dropped);
}

void peer_core::heard_hello(std::uint64_t member) {
  if (const auto link = links_.find(member); link != links_.end()) link->second->peer_is_back();
}

void peer_core::deliver(std::uint64_t group, actors::net_address to, const char* bytes, std::size_t size) {
  caf::message message;
  caf::binary_deserializer source{system_, bytes, size};
  // A type this process does not know comes back as an empty message.
  if (source(message) || message.empty() || source.remaining() != 0) return counters_.add(counters_.undecodable);
  if (auto target = route(group, to)) {
    counters_.add(counters_.received);            // first: whoever hears of the message may read the counter
    caf::anon_send(*target, std::move(message));  // a lone caf::message is sent as is, not wrapped
    return;
  }
  counters_.add(counters_.dropped);
}

void peer_core::attach(std::uint64_t group, actors::net_address address, caf::actor target) {
  std::lock_guard lock{routes_mutex_};
  if (routes_closed_) return;  // stop() has forgotten every actor; do not hold this one forever
  routes_[{group, address}] = std::move(target);
}

std::optional<caf::actor> peer_core::route(std::uint64_t group, actors::net_address to) {
  std::lock_guard lock{routes_mutex_};
  const auto it = routes_.find({group, to});
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

}  // namespace dkv::net::detail
