#include "net/server/protocol_server.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <charconv>
#include <thread>

#include "net/server/server_connection.hpp"

namespace dkv::net {

using detail::server_connection;
using generic_protocol = boost::asio::generic::stream_protocol;
using generic_acceptor = boost::asio::basic_socket_acceptor<generic_protocol>;

struct protocol_server::state {
  state(const protocol_server_options& options, std::map<std::uint64_t, std::shared_ptr<shard>> shard_map)
      : shards(std::move(shard_map)),
        tcp(options.tcp),
        report(options.report),
        listener("clients on " + options.transport + " " + options.endpoint),
        context{shards, options.max_frame_bytes,
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.idle_timeout), counters} {}

  // Declared first, destroyed last: every Asio object below needs it.
  boost::asio::io_context io;
  std::optional<generic_acceptor> acceptor;
  // The accept loop's: touched only by its handlers, which run one after another.
  boost::asio::steady_timer accept_timer{io};
  accept_backoff backoff;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::map<std::uint64_t, std::shared_ptr<shard>> shards;
  tcp_connection_options tcp;
  report_sink report;
  std::string listener;  // for the reports: "clients on tcp 0.0.0.0:8080"
  detail::server_counters counters;
  detail::server_context context;
  std::shared_ptr<detail::server_gate> gate = std::make_shared<detail::server_gate>();
  bool started = false;
  bool is_tcp = true;
  std::string unix_path;  // removed on stop
};

namespace {

error endpoint_error(const std::string& endpoint, const std::string& why) {
  return invalid_operation("bad endpoint '" + endpoint + "': " + why);
}

// "host:port", "[v6]:port" or ":port" (any address) as a TCP endpoint.
error tcp_endpoint_of(const std::string& text, generic_protocol::endpoint& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return endpoint_error(text, "expected host:port");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 || port_text.empty())
    return endpoint_error(text, "the port must be a number from 0 to 65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  boost::asio::io_context resolver_io;
  boost::asio::ip::tcp::resolver resolver(resolver_io);
  boost::system::error_code resolve_error;
  const auto results =
      resolver.resolve(host, port_text, boost::asio::ip::tcp::resolver::numeric_service, resolve_error);
  if (resolve_error || results.empty()) return endpoint_error(text, "cannot resolve host '" + host + "'");
  out = generic_protocol::endpoint(results.begin()->endpoint());
  return {};
}

std::uint16_t port_of(const generic_protocol::endpoint& endpoint) {
  const sockaddr* address = endpoint.data();
  if (address->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  if (address->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
  return 0;
}

// A socket file left by an earlier server would make bind fail; anything
// else at that path is not ours to remove.
void remove_stale_socket(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) ::unlink(path.c_str());
}

void accept_next(protocol_server::state& s);

// Best effort: a socket that refuses an option is served without it.
void set_tcp_options(detail::stream_socket& socket, const tcp_connection_options& o) {
  namespace asio = boost::asio;
  boost::system::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(o.no_delay), ignored);
  if (o.send_buffer_bytes > 0)
    socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(o.send_buffer_bytes)), ignored);
  if (o.receive_buffer_bytes > 0)
    socket.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(o.receive_buffer_bytes)), ignored);
  if (o.keepalive.count() > 0) {
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    const int idle = static_cast<int>(o.keepalive.count());
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
  }
  if (o.linger) socket.set_option(asio::socket_base::linger(true, static_cast<int>(o.linger->count())), ignored);
}

void on_accept(protocol_server::state& s, detail::connection_strand strand, const boost::system::error_code& ec,
               detail::stream_socket socket) {
  if (ec == boost::asio::error::operation_aborted || !s.acceptor || !s.acceptor->is_open()) return;
  if (accept_backoff::is_shortage(ec)) {
    // Out of descriptors: the connection stays in the backlog, and accepting
    // at once would fail at once, round and round. Wait for some to be freed.
    s.accept_timer.expires_after(s.backoff.pause(ec, s.listener, s.counters.open.load(), s.report));
    s.accept_timer.async_wait([&s](const boost::system::error_code& e) {
      if (!e) accept_next(s);
    });
    return;
  }
  if (!ec) {
    if (s.is_tcp) set_tcp_options(socket, s.tcp);
    auto connection = std::make_shared<server_connection>(std::move(socket), strand, s.context, s.gate);
    {
      const std::lock_guard lock(s.gate->registry_mutex);
      s.gate->registry.emplace(connection.get(), connection);
    }
    s.counters.accepted.fetch_add(1, std::memory_order_relaxed);
    s.counters.open.fetch_add(1, std::memory_order_relaxed);
    s.backoff.accepted(s.listener, s.counters.open.load(), s.report);
    boost::asio::post(strand, [connection] { connection->start(); });
  }
  accept_next(s);  // another accept error (a connection reset in the backlog, …) ends one connection
}

void accept_next(protocol_server::state& s) {
  // The new socket runs its handlers on its own strand: every connection's
  // work is serialised without a lock.
  auto strand = boost::asio::make_strand(s.io);
  auto socket = std::make_unique<detail::stream_socket>(strand);
  auto& peer = *socket;
  s.acceptor->async_accept(peer, [&s, strand, socket = std::move(socket)](const boost::system::error_code& ec) mutable {
    on_accept(s, std::move(strand), ec, std::move(*socket));
  });
}

void run_worker(boost::asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (...) {
      // A handler threw (out of memory on a huge frame, …): that connection
      // is lost, the server keeps serving.
    }
  }
}

}  // namespace

protocol_server::protocol_server(protocol_server_options options,
                                 std::map<std::uint64_t, std::shared_ptr<shard>> shards)
    : options_(std::move(options)), state_(std::make_shared<state>(options_, std::move(shards))) {}

protocol_server::~protocol_server() { stop(); }

error protocol_server::start() {
  state& s = *state_;
  if (s.started) return invalid_operation("the protocol server was started already");
  if (options_.workers == 0) return invalid_operation("a protocol server needs at least one worker");
  generic_protocol::endpoint endpoint;
  if (options_.transport == "tcp") {
    if (error e = tcp_endpoint_of(options_.endpoint, endpoint); !e.ok()) return e;
  } else if (options_.transport == "unix") {
    if (options_.endpoint.empty()) return endpoint_error(options_.endpoint, "a unix socket needs a path");
    if (options_.endpoint.size() >= sizeof(sockaddr_un::sun_path))
      return endpoint_error(options_.endpoint, "the socket path is too long");
    remove_stale_socket(options_.endpoint);
    endpoint = generic_protocol::endpoint(boost::asio::local::stream_protocol::endpoint(options_.endpoint));
    s.is_tcp = false;
  } else {
    return invalid_operation("unknown transport '" + options_.transport + "' (tcp or unix)");
  }

  boost::system::error_code ec;
  generic_acceptor acceptor(s.io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec && s.is_tcp) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec)
    return internal_error("cannot listen on " + options_.transport + " " + options_.endpoint + ": " + ec.message());
  if (s.is_tcp)
    port_ = port_of(acceptor.local_endpoint());
  else
    s.unix_path = options_.endpoint;

  s.acceptor.emplace(std::move(acceptor));
  s.started = true;
  s.work.emplace(s.io.get_executor());
  accept_next(s);
  for (unsigned i = 0; i < options_.workers; ++i) s.threads.emplace_back([&io = s.io] { run_worker(io); });
  return {};
}

void protocol_server::stop() {
  state& s = *state_;
  {
    const std::unique_lock lock(s.gate->stop_mutex);
    if (s.gate->stopped) return;
    s.gate->stopped = true;  // from now on late replies are dropped
  }
  s.io.stop();
  for (auto& thread : s.threads) thread.join();
  s.threads.clear();
  s.work.reset();
  if (s.acceptor) {
    boost::system::error_code ignored;
    s.acceptor->close(ignored);
    s.acceptor.reset();
  }
  // Free every connection's socket while the io_context exists. A connection
  // whose last reference is being dropped right now (by a shard's thread)
  // frees itself and leaves the registry: wait for it.
  for (;;) {
    std::vector<std::shared_ptr<server_connection>> alive;
    {
      const std::lock_guard lock(s.gate->registry_mutex);
      for (auto it = s.gate->registry.begin(); it != s.gate->registry.end();) {
        if (auto connection = it->second.lock()) {
          connection->release();
          alive.push_back(std::move(connection));
          it = s.gate->registry.erase(it);
        } else {
          ++it;
        }
      }
      if (s.gate->registry.empty() && alive.empty()) break;
    }
    alive.clear();  // outside the lock: a destructor takes it
    std::this_thread::yield();
  }
  if (!s.unix_path.empty()) ::unlink(s.unix_path.c_str());
}

protocol_server_stats protocol_server::stats() const {
  const auto& c = state_->counters;
  return {c.accepted.load(), c.open.load(),     c.requests.load(),
          c.invalid.load(),  c.oversize.load(), c.idle_closes.load()};
}

}  // namespace dkv::net
