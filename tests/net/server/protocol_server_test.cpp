#include "net/server/protocol_server.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "net/server/lstore_shard.hpp"
#include "tests/net/server/raw_socket.hpp"

namespace dkv::net {
namespace {

using test::raw_socket;
using outcome = raw_socket::outcome;

constexpr std::uint64_t lstore_id = 100;
constexpr std::uint64_t slow_id = 7;

// Holds every request until the test releases it, then answers from its own
// thread: an asynchronous shard whose answers come in the order the test picks.
class slow_shard final : public shard {
 public:
  void handle(message request, std::function<void(message)> reply) override {
    const std::lock_guard lock(mutex_);
    held_.emplace(request.key, std::move(reply));
    arrived_.notify_all();
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, std::chrono::seconds(10), [&] { return held_.size() >= n; });
  }
  // Answers the request for `key` from another thread (value = key).
  void release(const std::string& key) {
    std::function<void(message)> reply;
    {
      const std::lock_guard lock(mutex_);
      reply = std::move(held_.at(key));
      held_.erase(key);
    }
    std::thread([reply = std::move(reply), key] {
      message m;
      m.type = message_type::get;
      m.ok = true;
      m.value = key;
      reply(std::move(m));
    }).join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, std::function<void(message)>> held_;
};

struct served {
  explicit served(protocol_server_options options = {}) {
    if (options.endpoint.empty()) options.endpoint = "127.0.0.1:0";
    slow = std::make_shared<slow_shard>();
    server = std::make_unique<protocol_server>(
        options, std::map<std::uint64_t, std::shared_ptr<shard>>{
                     {lstore_id, std::make_shared<lstore_shard>(std::make_shared<lstore>(), true)}, {slow_id, slow}});
    const error e = server->start();
    REQUIRE(e.ok());
  }
  std::uint16_t port() const { return server->bound_port(); }
  std::shared_ptr<slow_shard> slow;
  std::unique_ptr<protocol_server> server;
};

message make(message_type type, std::string key, std::string value = {}) {
  message m;
  m.type = type;
  m.key = std::move(key);
  m.value = std::move(value);
  return m;
}

TEST_CASE("pipelined requests are answered by id") {
  served s;
  raw_socket sock(s.port());
  std::string batch;
  constexpr int n = 200;
  for (int i = 0; i < n; ++i)
    batch += raw_socket::frame_of(lstore_id, 1000 + i, make(message_type::set, "k" + std::to_string(i), "v"));
  for (int i = 0; i < n; ++i)
    batch += raw_socket::frame_of(lstore_id, 5000 + i, make(message_type::get, "k" + std::to_string(i)));
  sock.send_bytes(batch);
  std::map<std::uint64_t, message> answers;
  for (int i = 0; i < 2 * n; ++i) {
    frame_header h;
    message m;
    REQUIRE(sock.read(h, m) == outcome::frame);
    CHECK(h.shard == lstore_id);
    answers.emplace(h.request, std::move(m));
  }
  REQUIRE(answers.size() == 2 * n);
  for (int i = 0; i < n; ++i) {
    const message& set = answers.at(1000 + i);
    CHECK(set.type == message_type::set);
    CHECK(set.err.empty());
    CHECK(meta_index(set.meta) == static_cast<std::uint64_t>(i + 1));
    const message& get = answers.at(5000 + i);
    CHECK(get.ok);
    CHECK(get.value == "v");
  }
  CHECK(s.server->stats().requests == 2 * n);
}

TEST_CASE("a status request to an lstore shard says what it is") {
  served s;
  raw_socket sock(s.port());
  sock.send(lstore_id, 1, make(message_type::status, ""));
  frame_header h;
  message m;
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(m.type == message_type::status);
  CHECK(m.code == 0);
  CHECK(m.value == R"({"kind":"lstore"})");
}

TEST_CASE("answers go out as they complete, in any order") {
  served s;
  raw_socket sock(s.port());
  sock.send(slow_id, 1, make(message_type::get, "a"));
  sock.send(slow_id, 2, make(message_type::get, "b"));
  REQUIRE(s.slow->wait_for(2));
  sock.send(lstore_id, 3, make(message_type::has, "x"));
  frame_header h;
  message m;
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 3);  // the inline shard answered while the slow one holds 1 and 2
  s.slow->release("b");
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 2);
  CHECK(h.shard == slow_id);
  CHECK(m.value == "b");
  s.slow->release("a");
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 1);
  CHECK(m.value == "a");
}

TEST_CASE("requests the server cannot serve get error responses, the connection goes on") {
  served s;
  raw_socket sock(s.port());
  frame_header h;
  message m;

  sock.send(12345, 1, make(message_type::get, "k"));  // unknown shard
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 1);
  CHECK(m.type == message_type::error);
  CHECK(m.code == 3);
  CHECK(m.err.find("unknown shard 12345") != std::string::npos);

  std::string garbage;
  append_frame(garbage, lstore_id, 2, std::string("\xff\x7f\x01", 3));  // unknown type, truncated key
  sock.send_bytes(garbage);
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 2);
  CHECK(m.type == message_type::error);
  CHECK(m.code == 3);

  std::string empty;
  append_frame(empty, lstore_id, 3, {});
  sock.send_bytes(empty);
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 3);
  CHECK(m.code == 3);

  sock.send(lstore_id, 4, make(message_type::custom, "k"));  // a type the shard does not serve
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 4);
  CHECK(m.type == message_type::error);
  CHECK(m.code == 3);

  sock.send(lstore_id, 5, make(message_type::set, "k", "v"));
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(h.request == 5);
  CHECK(m.err.empty());
  CHECK(s.server->stats().invalid_requests >= 3);
}

TEST_CASE("an oversize frame is answered for its id, then the connection is closed") {
  protocol_server_options options;
  options.max_frame_bytes = 1024;
  served s(options);
  raw_socket bad(s.port());
  raw_socket good(s.port());
  std::string header;
  append_frame_header(header, {lstore_id, 77, 1u << 20});
  bad.send_bytes(header);
  frame_header h;
  message m;
  REQUIRE(bad.read(h, m) == outcome::frame);
  CHECK(h.request == 77);
  CHECK(m.type == message_type::error);
  CHECK(m.code == 3);
  CHECK(bad.read_until_closed() == outcome::closed);
  good.send(lstore_id, 1, make(message_type::set, "k", "v"));
  REQUIRE(good.read(h, m) == outcome::frame);
  CHECK(m.err.empty());
  CHECK(s.server->stats().oversize_frames == 1);
}

TEST_CASE("a truncated frame then close ends that connection only") {
  served s;
  {
    raw_socket cut(s.port());
    const std::string frame = raw_socket::frame_of(lstore_id, 1, make(message_type::set, "k", "v"));
    cut.send_bytes(std::string_view(frame).substr(0, frame.size() - 2));
    cut.shutdown_send();
    CHECK(cut.read_until_closed() == outcome::closed);
  }
  {
    raw_socket half_header(s.port());
    half_header.send_bytes("\x00\x00\x00");
    half_header.shutdown_send();
    CHECK(half_header.read_until_closed() == outcome::closed);
  }
  raw_socket good(s.port());
  good.send(lstore_id, 2, make(message_type::get, "k"));
  frame_header h;
  message m;
  REQUIRE(good.read(h, m) == outcome::frame);
  CHECK_FALSE(m.ok);  // the cut Set never ran
  CHECK(meta_index(m.meta) == 0);
}

TEST_CASE("answers owed are still written after the client half-closes") {
  served s;
  raw_socket sock(s.port());
  sock.send(slow_id, 1, make(message_type::get, "late"));
  REQUIRE(s.slow->wait_for(1));
  sock.shutdown_send();
  s.slow->release("late");
  frame_header h;
  message m;
  REQUIRE(sock.read(h, m) == outcome::frame);
  CHECK(m.value == "late");
  CHECK(sock.read_until_closed() == outcome::closed);
}

TEST_CASE("an idle connection is closed after idle_timeout") {
  protocol_server_options options;
  options.idle_timeout = std::chrono::seconds(1);
  served s(options);
  raw_socket idle(s.port(), std::chrono::seconds(5));
  const auto start = std::chrono::steady_clock::now();
  CHECK(idle.read_until_closed() == outcome::closed);
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(900));
  CHECK(waited < std::chrono::seconds(4));
  CHECK(s.server->stats().idle_closes == 1);
}

TEST_CASE("stop closes connections, is idempotent, and drops late replies") {
  served s;
  raw_socket sock(s.port());
  sock.send(slow_id, 1, make(message_type::get, "never"));
  REQUIRE(s.slow->wait_for(1));
  s.server->stop();
  CHECK(sock.read_until_closed() == outcome::closed);
  s.server->stop();
  s.slow->release("never");  // after stop: dropped, no crash
  s.server.reset();
}

TEST_CASE("start reports a busy port and bad endpoints clearly") {
  served s;
  protocol_server_options busy;
  busy.endpoint = "127.0.0.1:" + std::to_string(s.port());
  protocol_server second(busy, {});
  const error e = second.start();
  CHECK(e.code() == error_code::internal_error);
  CHECK(e.message().find("cannot listen") != std::string::npos);

  for (const char* bad : {"no-port", "127.0.0.1:99999", "127.0.0.1:x", "no.such.host.invalid:1"}) {
    protocol_server_options o;
    o.endpoint = bad;
    protocol_server server(o, {});
    CHECK(server.start().code() == error_code::invalid_operation);
  }
  protocol_server_options transport;
  transport.transport = "udp";
  transport.endpoint = "127.0.0.1:0";
  CHECK(protocol_server(transport, {}).start().code() == error_code::invalid_operation);
  CHECK(s.server->start().code() == error_code::invalid_operation);  // started already
}

TEST_CASE("the unix transport serves the same protocol") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("dkv-server-test-" + std::to_string(::getpid()) + ".sock")).string();
  protocol_server_options options;
  options.transport = "unix";
  options.endpoint = path;
  protocol_server server(options, {{lstore_id, std::make_shared<lstore_shard>(std::make_shared<lstore>(), true)}});
  REQUIRE(server.start().ok());
  CHECK(server.bound_port() == 0);
  boost::asio::io_context io;
  boost::asio::local::stream_protocol::socket sock(io);
  sock.connect(boost::asio::local::stream_protocol::endpoint(path));
  boost::asio::write(sock, boost::asio::buffer(raw_socket::frame_of(lstore_id, 9, make(message_type::set, "k", "v"))));
  std::string header(frame_header_bytes, '\0');
  boost::asio::read(sock, boost::asio::buffer(header));
  const frame_header h = read_frame_header(header.data());
  CHECK(h.request == 9);
  std::string payload(h.length, '\0');
  boost::asio::read(sock, boost::asio::buffer(payload));
  message m;
  std::string why;
  REQUIRE(decode(payload, m, why));
  CHECK(meta_index(m.meta) == 1);
  server.stop();
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("lock acquire and release on an lstore shard") {
  served s;
  raw_socket sock(s.port());
  message acquire = make(message_type::lock_acquire, "lock");
  sock.send(lstore_id, 1, acquire);
  frame_header h;
  message first;
  REQUIRE(sock.read(h, first) == outcome::frame);
  CHECK(first.ok);
  CHECK(first.value.size() == 32);
  CHECK(meta_index(first.meta) == 1);
  sock.send(lstore_id, 2, acquire);
  message second;
  REQUIRE(sock.read(h, second) == outcome::frame);
  CHECK_FALSE(second.ok);
  sock.send(lstore_id, 3, make(message_type::lock_release, "lock", first.value));
  message released;
  REQUIRE(sock.read(h, released) == outcome::frame);
  CHECK(released.ok);
}

}  // namespace
}  // namespace dkv::net
