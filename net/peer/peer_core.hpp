#pragma once
// peer_network's insides (see peer_network.hpp; not for other modules).
//
// Threads: send() runs in the caller's thread (CAF workers); everything that
// touches a socket runs in the one I/O thread. They meet in an
// outgoing_link's queue, under its mutex: the caller appends a whole frame
// and, if the I/O thread is not already going to look at the queue, posts it
// one pump(). The I/O thread then writes everything queued in one write.

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/message.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "net/peer/peer_network.hpp"
#include "net/peer/report_limit.hpp"
#include "net/peer/wire.hpp"

namespace dkv::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct atomic_counters {
  std::atomic<std::uint64_t> sent{0}, received{0}, dropped{0}, connects{0}, undecodable{0}, rejected{0};
  void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
};

class peer_core;

// The connection this process opens to one peer, and what waits to go
// through it. Opened when there is something to send; after a failure, the
// link is down for a backoff (doubling from reconnect_min to reconnect_max)
// during which sends are dropped, then idle again until the next send. The
// peer writes back only to refuse our hello: the link reports why, and
// waits reconnect_max before trying again, since a refusal is no accident.
class outgoing_link {
 public:
  outgoing_link(peer_core& core, std::uint64_t member, peer_endpoint endpoint);

  // Any thread: queue one whole frame. False if it is dropped instead.
  bool enqueue(const char* frame, std::size_t size);

  // I/O thread only.
  void pump();   // connect if idle; else write what is queued, if no write is under way
  void close();  // for good: stop()
  // The peer connected to us: it is up, so a link down for a backoff may
  // connect again at once (a restarted peer hears from us without waiting
  // out our backoff, which can reach reconnect_max).
  void peer_is_back();

 private:
  enum class link_state { idle, connecting, connected, down, closed };

  void connect();
  void on_connected(const boost::system::error_code& ec, std::uint64_t generation);
  void on_written(const boost::system::error_code& ec, std::uint64_t generation);
  void watch_for_close(std::uint64_t generation);  // the peer writes here only to refuse us
  void on_reply(const boost::system::error_code& ec, std::size_t n, std::uint64_t generation);
  void report_refusal(const wire::refusal& refusal);
  void closed_without_reason();
  std::string who() const;  // "peer node-2=127.0.0.1:7002 (member 2)"
  void fail();
  void arm_timer(std::chrono::milliseconds after);

  peer_core& core_;
  const std::uint64_t member_;
  const peer_endpoint endpoint_;
  std::optional<tcp::endpoint> numeric_;  // the endpoint when its host is an IP address

  std::mutex mutex_;  // guards the next four
  link_state state_ = link_state::idle;
  std::vector<char> queued_;
  std::uint64_t queued_frames_ = 0;
  bool io_will_look_ = false;  // a pump is posted, or a connect or write under way ends in one

  // I/O thread only. `generation_` changes whenever the socket is closed,
  // so that handlers of an earlier connection know they are stale.
  tcp::socket socket_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;  // connect deadline while connecting, backoff while down
  std::uint64_t generation_ = 0;
  std::chrono::milliseconds backoff_;
  std::vector<char> writing_;
  std::uint64_t writing_frames_ = 0;
  bool write_under_way_ = false;
  std::vector<char> reply_;  // what the peer wrote: a refusal, whole or in part
  std::size_t reply_size_ = 0;
  std::chrono::steady_clock::time_point connected_at_;
  int quiet_closes_ = 0;  // connections in a row the peer closed at once, saying nothing
};

// A connection a peer opened to us: its hello, then frames to deliver. A
// hello from another cluster, version or member is refused: the refusal is
// written, our side shut down, and what the peer still sends is read and
// discarded until it closes (it has read the refusal then) or linger_bound
// passes — closing at once, with its frames unread, would send a reset,
// and the peer might lose the refusal with it.
class incoming_connection : public std::enable_shared_from_this<incoming_connection> {
 public:
  incoming_connection(peer_core& core, tcp::socket socket);
  void start() { read_more(); }
  void close();

 private:
  enum class hello_state { incomplete, accepted, refused };

  void read_more();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  bool consume();  // every complete unit read so far; false if it closed the connection
  hello_state read_hello(const char* at, std::size_t available);
  void refuse(wire::refusal_reason reason, const std::string& key, const std::string& why);
  void drain();

  peer_core& core_;
  tcp::socket socket_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // the unread bytes
  std::size_t wanted_ = 0;           // bytes from begin_ the next unit needs
  std::uint64_t member_ = 0;         // the sender, once its hello is read
  bool closed_ = false;
  asio::steady_timer linger_;  // the bound on a refused connection's last reads
};

class peer_core {
 public:
  peer_core(caf::actor_system& system, peer_network_options options);
  ~peer_core();

  dkv::error start();
  void stop();
  std::uint16_t bound_port() const { return bound_port_.load(); }

  void send(std::uint64_t group, actors::net_address to, const caf::message& message);
  void attach(std::uint64_t group, actors::net_address address, caf::actor target);
  // The I/O thread: one frame's bytes arrived for (group, to).
  void deliver(std::uint64_t group, actors::net_address to, const char* bytes, std::size_t size);
  void forget(const std::shared_ptr<incoming_connection>& connection) { incoming_.erase(connection); }
  void heard_hello(std::uint64_t member);  // the I/O thread: a member's connection to us was accepted
  bool is_peer(std::uint64_t member) const { return links_.count(member) != 0; }
  // The I/O thread: a complaint about `key` (a source), unless report_limit holds it back.
  void complain(const std::string& key, report_level level, const std::string& text);
  const std::string& listener() const noexcept { return listener_; }  // "peers on 127.0.0.1:7001"

  const peer_network_options& options() const noexcept { return options_; }
  asio::io_context& io() noexcept { return io_; }
  atomic_counters& counters() noexcept { return counters_; }

 private:
  void accept_next();
  void close_all();  // the I/O thread's part of stop()
  std::optional<caf::actor> route(std::uint64_t group, actors::net_address to);

  caf::actor_system& system_;
  const peer_network_options options_;
  atomic_counters counters_;
  asio::io_context io_;  // before everything holding sockets: destroyed after them
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;  // I/O thread only, as the two below
  accept_backoff accept_backoff_;
  std::string listener_;  // for the reports: "peers on 127.0.0.1:7001"
  report_limit complaints_;
  std::map<std::uint64_t, std::unique_ptr<outgoing_link>> links_;  // fixed at construction: read without a lock
  std::set<std::shared_ptr<incoming_connection>> incoming_;        // I/O thread only
  std::atomic<std::uint16_t> bound_port_{0};
  std::atomic<bool> accepting_sends_{false};

  std::mutex routes_mutex_;
  std::map<std::pair<std::uint64_t, actors::net_address>, caf::actor> routes_;
  bool routes_closed_ = false;  // by stop()

  std::mutex lifecycle_mutex_;  // start() and stop()
  bool started_ = false, stopped_ = false;
  std::thread thread_;
};

}  // namespace dkv::net::detail
