#include "net/client/remote_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "net/client/client_connection.hpp"
#include "store/error.hpp"

namespace dkv::net {

using namespace detail;
using generic_protocol = boost::asio::generic::stream_protocol;

bool is_read_request(message_type type) noexcept {
  return type == message_type::get || type == message_type::has || type == message_type::db_info ||
         type == message_type::status;
}

namespace {

message failure(error_code code, std::string text) {
  message m;
  m.type = message_type::error;
  m.err = error(code, std::move(text)).to_string();
  m.code = static_cast<std::uint8_t>(code);
  return m;
}

// A server's error text without dKV's "KVStoreError (code NAME): " in front.
std::string without_kv_prefix(const std::string& err) {
  const std::size_t colon = err.find("): ");
  return err.rfind("KVStoreError (code ", 0) == 0 && colon != std::string::npos ? err.substr(colon + 3) : err;
}

void parse_endpoint(const std::string& text, endpoint_state& ep) {
  ep.text = text;
  if (text.rfind("unix:", 0) == 0) {
    ep.is_unix = true;
    ep.path = text.substr(5);
    return;
  }
  const auto colon = text.rfind(':');
  ep.host = colon == std::string::npos ? text : text.substr(0, colon);
  ep.port = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (ep.host.size() >= 2 && ep.host.front() == '[' && ep.host.back() == ']')
    ep.host = ep.host.substr(1, ep.host.size() - 2);
}

}  // namespace

class remote_client::engine {
 public:
  explicit engine(remote_client_options options)
      : options_(std::move(options)), work_(io_.get_executor()), resolver_(io_), sweep_timer_(io_), delay_timer_(io_) {
    options_.connections_per_endpoint = std::max<std::size_t>(1, options_.connections_per_endpoint);
    endpoints_.resize(options_.endpoints.size());
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
      parse_endpoint(options_.endpoints[i], endpoints_[i]);
      endpoints_[i].backoff = options_.min_backoff;
      for (std::size_t c = 0; c < options_.connections_per_endpoint; ++c)
        endpoints_[i].connections.push_back(
            std::make_unique<client_connection>(io_, endpoints_[i], options_.max_frame_bytes));
    }
    // Deadlines of sent calls are checked on a tick: a fraction of the call
    // timeout, so a late answer is late by little.
    sweep_every_ = std::clamp<clock::duration>(options_.call_timeout / 50, std::chrono::milliseconds(1),
                                               std::chrono::milliseconds(50));
    arm_sweep();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~engine() {
    stopping_.store(true);
    boost::asio::post(io_, [this] { shut_down(); });
    work_.reset();
    thread_.join();
  }

  const remote_client_options& options() const noexcept { return options_; }

  void call(std::uint64_t shard, message request, std::function<void(message)> done) {
    if (stopping_.load(std::memory_order_relaxed)) {
      done(failure(error_code::unavailable, "the client is shutting down"));
      return;
    }
    auto c = std::make_unique<pending_call>();
    c->shard = shard;
    c->read_only = is_read_request(request.type);
    c->request = std::move(request);
    c->done = std::move(done);
    c->deadline = clock::now() + options_.call_timeout;
    c->backoff = options_.min_backoff;
    c->endpoint = endpoints_.empty() ? 0 : next_endpoint_.fetch_add(1, std::memory_order_relaxed) % endpoints_.size();
    boost::asio::post(io_, [this, c = std::move(c)]() mutable { dispatch(std::move(c)); });
  }

 private:
  // --- calls -----------------------------------------------------------

  void finish(call_ptr c, message response) {
    try {
      c->done(std::move(response));
    } catch (...) {
      // the caller's callback failed: nothing the client can do about it
    }
  }

  // With the latest refusal's reason, if a server gave one: what the caller
  // must know is why no server could take it.
  void unavailable(call_ptr c, const char* why) {
    std::string text = std::string(why) + " (never applied)";
    if (!c->refusal.empty()) text += "; " + c->refusal;
    finish(std::move(c), failure(error_code::unavailable, std::move(text)));
  }

  void timed_out(call_ptr c, const char* why) {
    finish(std::move(c), failure(error_code::timeout, std::string(why) + " (may or may not have been applied)"));
  }

  // Sends `c` to the first endpoint from c->endpoint on that is not down.
  void dispatch(call_ptr c) {
    const auto now = clock::now();
    if (stopping_ || endpoints_.empty()) return unavailable(std::move(c), "no server to send the request to");
    if (now >= c->deadline) return unavailable(std::move(c), "no server took the request within the call timeout");
    clock::time_point soonest = clock::time_point::max();
    for (std::size_t step = 0; step < endpoints_.size(); ++step) {
      const std::size_t index = (c->endpoint + step) % endpoints_.size();
      endpoint_state& ep = endpoints_[index];
      if (ep.down_until > now) {
        soonest = std::min(soonest, ep.down_until);
        continue;
      }
      c->endpoint = index;
      client_connection& conn = *ep.connections[ep.next_connection++ % ep.connections.size()];
      switch (conn.state) {
        case client_connection::phase::connected:
          send(conn, std::move(c));
          flush(conn);
          return;
        case client_connection::phase::connecting: conn.waiting.push_back(std::move(c)); return;
        case client_connection::phase::idle:
          conn.waiting.push_back(std::move(c));
          connect(conn);
          return;
      }
    }
    delay(std::move(c), soonest);  // every endpoint is down: wait for the first to come back
  }

  // Resends `c` elsewhere: it was certainly not applied by this attempt.
  void resend(call_ptr c, bool wait) {
    c->on_wire = false;
    c->endpoint = (c->endpoint + 1) % std::max<std::size_t>(1, endpoints_.size());
    if (!wait) return dispatch(std::move(c));
    const auto due = clock::now() + c->backoff;
    c->backoff = std::min(c->backoff * 2, options_.max_backoff);
    delay(std::move(c), due);
  }

  void delay(call_ptr c, clock::time_point due) {
    due = std::min(due, c->deadline);
    const bool sooner = delayed_.empty() || due < delayed_.begin()->first;
    delayed_.emplace(due, std::move(c));
    if (sooner) arm_delay();
  }

  void arm_delay() {
    if (delayed_.empty()) return;
    delay_timer_.expires_at(delayed_.begin()->first);
    delay_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      const auto now = clock::now();
      std::vector<call_ptr> due;
      while (!delayed_.empty() && delayed_.begin()->first <= now) {
        due.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
      }
      for (auto& c : due) dispatch(std::move(c));
      arm_delay();
    });
  }

  // --- connections -----------------------------------------------------

  void connect(client_connection& conn) {
    conn.state = client_connection::phase::connecting;
    const std::uint64_t generation = ++conn.generation;
    conn.connect_timer.expires_after(options_.connect_timeout);
    conn.connect_timer.async_wait([this, &conn, generation](const boost::system::error_code& ec) {
      if (!ec && conn.generation == generation && conn.state == client_connection::phase::connecting)
        drop(conn, "no connection within the connect timeout");
    });
    endpoint_state& ep = conn.endpoint;
    if (ep.is_unix) {
      connect_to(conn, generation, generic_protocol::endpoint(boost::asio::local::stream_protocol::endpoint(ep.path)));
      return;
    }
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(ep.host, ec);
    unsigned long port = 0;
    try {
      port = std::stoul(ep.port);
    } catch (...) {
      port = 65536;
    }
    if (port > 65535) return drop(conn, "not a port");
    if (!ec) {
      connect_to(conn, generation,
                 generic_protocol::endpoint(boost::asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port))));
      return;
    }
    resolver_.async_resolve(ep.host, ep.port,
                            [this, &conn, generation](const boost::system::error_code& error,
                                                      const boost::asio::ip::tcp::resolver::results_type& results) {
                              if (conn.generation != generation) return;
                              if (error || results.empty()) return drop(conn, "its host does not resolve");
                              connect_to(conn, generation, generic_protocol::endpoint(results.begin()->endpoint()));
                            });
  }

  void connect_to(client_connection& conn, std::uint64_t generation, const generic_protocol::endpoint& target) {
    conn.socket.emplace(io_);
    conn.socket->async_connect(target, [this, &conn, generation](const boost::system::error_code& ec) {
      if (conn.generation != generation) return;
      if (ec) return drop(conn, ec.message().empty() ? "failed" : ec.message());
      connected(conn);
    });
  }

  void connected(client_connection& conn) {
    conn.state = client_connection::phase::connected;
    conn.connect_timer.cancel();
    conn.endpoint.backoff = options_.min_backoff;
    conn.endpoint.down_until = {};
    if (!conn.endpoint.is_unix) {
      boost::system::error_code ignored;
      conn.socket->set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    }
    read(conn);
    auto waiting = std::move(conn.waiting);
    conn.waiting.clear();
    for (auto& c : waiting) send(conn, std::move(c));
    flush(conn);
  }

  // The connection is gone (or never came, for `connect_failure`): calls not
  // yet written go elsewhere; a written write may have been applied and
  // answers Timeout; a written read is asked again elsewhere.
  void drop(client_connection& conn, const std::string& connect_failure = {}) {
    const bool connect_failed = !connect_failure.empty();
    ++conn.generation;
    conn.state = client_connection::phase::idle;
    conn.connect_timer.cancel();
    if (conn.socket) {
      boost::system::error_code ignored;
      conn.socket->close(ignored);
    }
    if (connect_failed) {
      endpoint_state& ep = conn.endpoint;
      ep.down_until = clock::now() + ep.backoff;
      ep.backoff = std::min(ep.backoff * 2, options_.max_backoff);
    }
    auto waiting = std::move(conn.waiting);
    auto in_flight = std::move(conn.in_flight);
    conn.waiting.clear();
    conn.in_flight.clear();
    conn.unsent.clear();
    conn.pending.clear();
    conn.writing.clear();
    conn.write_busy = false;
    conn.reader = frame_reader(options_.max_frame_bytes);
    for (auto& c : waiting) {
      if (connect_failed) c->refusal = "cannot connect to " + conn.endpoint.text + ": " + connect_failure;
      resend(std::move(c), false);
    }
    // By request id: the order of the outcomes does not depend on hashing.
    std::map<std::uint64_t, call_ptr> ordered;
    for (auto& [id, c] : in_flight) ordered.emplace(id, std::move(c));
    for (auto& [id, c] : ordered) {
      if (!c->on_wire)
        resend(std::move(c), false);
      else if (c->read_only)
        resend(std::move(c), true);
      else
        timed_out(std::move(c), "the connection was lost after the request was sent");
    }
  }

  void send(client_connection& conn, call_ptr c) {
    const std::uint64_t id = conn.next_request++;
    const std::size_t length = encoded_size(c->request);
    append_frame_header(conn.pending, {c->shard, id, static_cast<std::uint32_t>(length)});
    encode(c->request, conn.pending);
    conn.unsent.push_back(id);
    conn.in_flight.emplace(id, std::move(c));
  }

  void flush(client_connection& conn) {
    if (conn.write_busy || conn.pending.empty() || conn.state != client_connection::phase::connected) return;
    for (const std::uint64_t id : conn.unsent)
      if (auto found = conn.in_flight.find(id); found != conn.in_flight.end()) found->second->on_wire = true;
    conn.unsent.clear();
    conn.write_busy = true;
    conn.writing.swap(conn.pending);
    const std::uint64_t generation = conn.generation;
    boost::asio::async_write(*conn.socket, boost::asio::buffer(conn.writing),
                             [this, &conn, generation](const boost::system::error_code& ec, std::size_t) {
                               if (conn.generation != generation) return;
                               conn.write_busy = false;
                               if (ec) return drop(conn);
                               if (conn.writing.capacity() > (4u << 20))
                                 std::string().swap(conn.writing);
                               else
                                 conn.writing.clear();
                               flush(conn);
                             });
  }

  void read(client_connection& conn) {
    const std::uint64_t generation = conn.generation;
    conn.socket->async_read_some(boost::asio::buffer(conn.read_buffer),
                                 [this, &conn, generation](const boost::system::error_code& ec, std::size_t bytes) {
                                   if (conn.generation != generation) return;
                                   if (ec) return drop(conn);
                                   if (!take_responses(conn, bytes)) return drop(conn);
                                   read(conn);
                                 });
  }

  // False when the server broke the protocol: the connection must go.
  bool take_responses(client_connection& conn, std::size_t bytes) {
    conn.reader.feed(std::string_view(conn.read_buffer.data(), bytes));
    frame_header header;
    std::string_view payload;
    for (;;) {
      switch (conn.reader.next(header, payload)) {
        case frame_reader::status::need_more: return true;
        case frame_reader::status::oversize: return false;
        case frame_reader::status::frame: break;
      }
      const auto found = conn.in_flight.find(header.request);
      if (found == conn.in_flight.end()) continue;  // answered already (timed out): too late
      message response;
      std::string why;
      if (!decode(payload, response, why)) return false;
      call_ptr c = std::move(found->second);
      conn.in_flight.erase(found);
      if (response.code == static_cast<std::uint8_t>(error_code::unavailable)) {
        c->refusal = conn.endpoint.text + " answered: " + without_kv_prefix(response.err);
        resend(std::move(c), true);  // the server says it was not applied: try elsewhere
        continue;
      }
      // A read the server could not answer in time changes nothing: while
      // the call has time left, another server may answer it.
      if (c->read_only && response.code == static_cast<std::uint8_t>(error_code::timeout) &&
          clock::now() < c->deadline) {
        resend(std::move(c), false);
        continue;
      }
      finish(std::move(c), std::move(response));
    }
  }

  // --- deadlines and shutdown --------------------------------------------

  void arm_sweep() {
    sweep_timer_.expires_after(sweep_every_);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping_) return;
      sweep(clock::now());
      arm_sweep();
    });
  }

  void sweep(clock::time_point now) {
    for (auto& ep : endpoints_) {
      for (auto& conn : ep.connections) {
        auto& waiting = conn->waiting;
        for (std::size_t i = 0; i < waiting.size();) {
          if (waiting[i]->deadline > now) {
            ++i;
            continue;
          }
          call_ptr c = std::move(waiting[i]);
          waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
          unavailable(std::move(c), "no connection within the call timeout");
        }
        std::vector<std::uint64_t> expired;
        for (const auto& [id, c] : conn->in_flight)
          if (c->deadline <= now) expired.push_back(id);
        std::sort(expired.begin(), expired.end());
        for (const std::uint64_t id : expired) {
          auto found = conn->in_flight.find(id);
          call_ptr c = std::move(found->second);
          conn->in_flight.erase(found);
          // Written, or queued to be written: either way it may reach the server.
          timed_out(std::move(c), "no answer within the call timeout");
        }
      }
    }
  }

  void shut_down() {
    sweep_timer_.cancel();
    delay_timer_.cancel();
    resolver_.cancel();
    for (auto& [due, c] : delayed_) unavailable(std::move(c), "the client shut down");
    delayed_.clear();
    for (auto& ep : endpoints_) {
      for (auto& conn : ep.connections) {
        ++conn->generation;
        conn->connect_timer.cancel();
        if (conn->socket) {
          boost::system::error_code ignored;
          conn->socket->close(ignored);
        }
        for (auto& c : conn->waiting) unavailable(std::move(c), "the client shut down");
        conn->waiting.clear();
        std::map<std::uint64_t, call_ptr> ordered;
        for (auto& [id, c] : conn->in_flight) ordered.emplace(id, std::move(c));
        conn->in_flight.clear();
        for (auto& [id, c] : ordered) {
          if (c->on_wire)
            timed_out(std::move(c), "the client shut down");
          else
            unavailable(std::move(c), "the client shut down");
        }
      }
    }
  }

  remote_client_options options_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer delay_timer_;
  clock::duration sweep_every_{};
  std::vector<endpoint_state> endpoints_;
  std::multimap<clock::time_point, call_ptr> delayed_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> next_endpoint_{0};
  std::thread thread_;
};

remote_client::remote_client(remote_client_options options) : engine_(std::make_unique<engine>(std::move(options))) {}

remote_client::~remote_client() = default;

const remote_client_options& remote_client::options() const noexcept { return engine_->options(); }

void remote_client::call(std::uint64_t shard, message request, std::function<void(message)> done) {
  engine_->call(shard, std::move(request), std::move(done));
}

std::future<message> remote_client::call(std::uint64_t shard, message request) {
  auto promise = std::make_shared<std::promise<message>>();
  std::future<message> result = promise->get_future();
  engine_->call(shard, std::move(request), [promise](message response) { promise->set_value(std::move(response)); });
  return result;
}

message remote_client::call_sync(std::uint64_t shard, message request) {
  // Waits on the stack: no shared state to allocate per call.
  struct slot {
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    message response;
  } s;
  engine_->call(shard, std::move(request), [&s](message response) {
    const std::lock_guard lock(s.mutex);
    s.response = std::move(response);
    s.done = true;
    s.ready.notify_one();
  });
  std::unique_lock lock(s.mutex);
  s.ready.wait(lock, [&s] { return s.done; });
  return std::move(s.response);
}

}  // namespace dkv::net
