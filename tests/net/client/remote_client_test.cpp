// remote_client's honest outcomes (docs/spec.md): Timeout only when a write may
// have been applied, Unavailable only when it cannot have been.

#include "net/client/remote_client.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>

#include <atomic>
#include <thread>

#include "net/client/remote_store.hpp"
#include "net/protocol/frame.hpp"
#include "net/server/lstore_shard.hpp"
#include "net/server/protocol_server.hpp"
#include "store/lstore.hpp"

namespace dkv::net {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
constexpr std::uint64_t shard_id = 100;

std::string endpoint_of(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// A port nobody listens on: bound, then released.
std::uint16_t dead_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// A server that reads one whole request frame, then closes the connection
// without answering: whatever it read may have been applied.
class closing_server {
 public:
  closing_server() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~closing_server() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int frames_read() const { return frames_.load(); }

 private:
  struct session : std::enable_shared_from_this<session> {
    explicit session(boost::asio::ip::tcp::socket s, std::atomic<int>& frames) : socket(std::move(s)), count(frames) {}
    void start() {
      boost::asio::async_read(socket, boost::asio::buffer(header),
                              [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                if (ec) return;
                                self->payload.resize(read_frame_header(self->header).length);
                                boost::asio::async_read(self->socket, boost::asio::buffer(self->payload),
                                                        [self](const boost::system::error_code& e, std::size_t) {
                                                          if (!e) ++self->count;
                                                          self->socket.close();
                                                        });
                              });
    }
    boost::asio::ip::tcp::socket socket;
    std::atomic<int>& count;
    char header[frame_header_bytes]{};
    std::string payload;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      std::make_shared<session>(std::move(s), frames_)->start();
      accept();
    });
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> frames_{0};
  std::thread thread_;
};

// A shard that answers every request with a fixed error code (5: the
// request was refused before anything was applied), or never (code 0).
class refusing_shard final : public shard {
 public:
  explicit refusing_shard(std::uint8_t code) : code_(code) {}
  void handle(message request, std::function<void(message)> reply) override {
    ++calls;
    if (code_ == 0) {
      const std::lock_guard lock(mutex_);
      held_.push_back(std::move(reply));  // never answered while the test runs
      return;
    }
    message m;
    m.type = request.type;
    m.code = code_;
    m.err = error(static_cast<error_code>(code_), "refused").to_string();
    reply(std::move(m));
  }
  std::atomic<int> calls{0};

 private:
  std::uint8_t code_;
  std::mutex mutex_;
  std::vector<std::function<void(message)>> held_;
};

struct served {
  explicit served(std::shared_ptr<shard> s) {
    protocol_server_options options;
    options.endpoint = "127.0.0.1:0";
    server = std::make_unique<protocol_server>(options, std::map<std::uint64_t, std::shared_ptr<shard>>{{shard_id, s}});
    const error e = server->start();
    REQUIRE(e.ok());
  }
  static std::shared_ptr<shard> lstore_backed() {
    return std::make_shared<lstore_shard>(std::make_shared<lstore>(), true);
  }
  std::string endpoint() const { return endpoint_of(server->bound_port()); }
  std::unique_ptr<protocol_server> server;
};

message set_request(std::string key, std::string value = "v") {
  message m;
  m.type = message_type::set;
  m.key = std::move(key);
  m.value = std::move(value);
  return m;
}

message get_request(std::string key) {
  message m;
  m.type = message_type::get;
  m.key = std::move(key);
  return m;
}

remote_client_options options_for(std::vector<std::string> endpoints, std::chrono::milliseconds timeout = 2000ms) {
  remote_client_options o;
  o.endpoints = std::move(endpoints);
  o.call_timeout = timeout;
  o.connect_timeout = 500ms;
  return o;
}

TEST_CASE("a write whose connection closes after the server read it answers Timeout") {
  closing_server server;
  remote_client client(options_for({endpoint_of(server.port())}));
  const message r = client.call_sync(shard_id, set_request("k"));
  CHECK(r.type == message_type::error);
  CHECK(r.code == static_cast<std::uint8_t>(error_code::timeout));
  CHECK(r.err.find("KVStoreError (code Timeout)") == 0);
  CHECK(server.frames_read() == 1);  // sent once, never again
}

TEST_CASE("a read whose connection closes is asked again, and never answers Timeout for nothing") {
  closing_server server;
  remote_client client(options_for({endpoint_of(server.port())}, 300ms));
  const message r = client.call_sync(shard_id, get_request("k"));
  CHECK(r.type == message_type::error);
  CHECK(r.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK(server.frames_read() > 1);  // retried
}

TEST_CASE("with no server listening, calls answer Unavailable within the call timeout") {
  const std::string dead = endpoint_of(dead_port());
  remote_client client(options_for({dead}, 300ms));
  const auto start = clock_type::now();
  const message r = client.call_sync(shard_id, set_request("k"));
  const auto took = clock_type::now() - start;
  CHECK(r.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK(error_of(r).code() == error_code::unavailable);
  CHECK_THAT(r.err, Catch::EndsWith("(never applied); cannot connect to " + dead + ": Connection refused"));
  CHECK(took >= 250ms);
  CHECK(took < 1000ms);
}

TEST_CASE("with no endpoints at all, calls answer Unavailable at once") {
  remote_client client(options_for({}));
  CHECK(client.call_sync(shard_id, set_request("k")).code == static_cast<std::uint8_t>(error_code::unavailable));
}

TEST_CASE("two endpoints, the first dead: calls succeed through the second") {
  served live(served::lstore_backed());
  remote_client client(options_for({endpoint_of(dead_port()), live.endpoint()}));
  for (int i = 0; i < 20; ++i) {
    const message r = client.call_sync(shard_id, set_request("k" + std::to_string(i)));
    CHECK(r.err.empty());
    CHECK(meta_index(r.meta) == static_cast<std::uint64_t>(i + 1));
  }
  const message got = client.call_sync(shard_id, get_request("k3"));
  CHECK(got.ok);
}

TEST_CASE("a server's Unavailable sends the request to the next endpoint") {
  auto refusing = std::make_shared<refusing_shard>(static_cast<std::uint8_t>(error_code::unavailable));
  served first(refusing);
  served second(served::lstore_backed());
  remote_client client(options_for({first.endpoint(), second.endpoint()}));
  for (int i = 0; i < 4; ++i) {
    const message r = client.call_sync(shard_id, set_request("k"));
    CHECK(r.err.empty());
    CHECK(meta_index(r.meta) == static_cast<std::uint64_t>(i + 1));  // applied once each, at the second
  }
  CHECK(refusing->calls.load() >= 1);
}

TEST_CASE("a read the server answers Timeout is asked of the next endpoint, a write is not sent again") {
  auto slow = std::make_shared<refusing_shard>(static_cast<std::uint8_t>(error_code::timeout));
  served first(slow);
  served second(served::lstore_backed());
  remote_client client(options_for({first.endpoint(), second.endpoint()}));
  for (int i = 0; i < 4; ++i) {
    const message r = client.call_sync(shard_id, get_request("k"));
    CHECK(r.code == 0);  // answered by the second: not found, no error
    CHECK(r.err.empty());
  }
  CHECK(slow->calls.load() >= 1);
  int timeouts = 0;
  for (int i = 0; i < 4; ++i) {
    const int before = slow->calls.load();
    const message w = client.call_sync(shard_id, set_request("k"));
    if (slow->calls.load() > before) {  // it went to the first: its Timeout is the answer
      CHECK(w.code == static_cast<std::uint8_t>(error_code::timeout));
      ++timeouts;
    }
  }
  CHECK(timeouts >= 1);  // round robin sends some of them to the first
}

TEST_CASE("only Unavailable answers until the call timeout: Unavailable, with the server's reason") {
  served refusing(std::make_shared<refusing_shard>(static_cast<std::uint8_t>(error_code::unavailable)));
  remote_client client(options_for({refusing.endpoint()}, 300ms));
  const auto start = clock_type::now();
  const message r = client.call_sync(shard_id, set_request("k"));
  CHECK(r.code == static_cast<std::uint8_t>(error_code::unavailable));
  CHECK_THAT(r.err, Catch::EndsWith("(never applied); " + refusing.endpoint() + " answered: refused"));
  CHECK(clock_type::now() - start < 1000ms);
}

TEST_CASE("a sent call without an answer by the call timeout answers Timeout") {
  served silent(std::make_shared<refusing_shard>(0));
  remote_client client(options_for({silent.endpoint()}, 300ms));
  const auto start = clock_type::now();
  const message w = client.call_sync(shard_id, set_request("k"));
  CHECK(w.code == static_cast<std::uint8_t>(error_code::timeout));
  const auto took = clock_type::now() - start;
  CHECK(took >= 290ms);
  CHECK(took < 1000ms);
  const message r = client.call_sync(shard_id, get_request("k"));
  CHECK(r.code == static_cast<std::uint8_t>(error_code::timeout));
}

TEST_CASE("other errors of the server come back as they are") {
  served refusing(std::make_shared<refusing_shard>(static_cast<std::uint8_t>(error_code::invalid_operation)));
  remote_client client(options_for({refusing.endpoint()}));
  const message r = client.call_sync(shard_id, set_request("k"));
  CHECK(r.type == message_type::set);
  CHECK(error_of(r) == error(error_code::invalid_operation, "refused"));
  const message unknown = client.call_sync(shard_id + 1, set_request("k"));
  CHECK(unknown.type == message_type::error);
  CHECK(error_of(unknown).code() == error_code::invalid_operation);
}

TEST_CASE("dKV's error text is understood without the ext code") {
  message m;
  m.type = message_type::set;
  m.err = "KVStoreError (code UnsupportedOperation): SetE operation is not supported";
  CHECK(error_of(m) == error(error_code::unsupported_operation, "SetE operation is not supported"));
  m.err = "something else went wrong";
  CHECK(error_of(m).code() == error_code::internal_error);
  CHECK(error_of(message{}).ok());
}

TEST_CASE("many threads share one client, futures and callbacks") {
  served live(served::lstore_backed());
  auto o = options_for({live.endpoint()});
  o.connections_per_endpoint = 3;
  remote_client client(o);
  constexpr int threads = 8, per_thread = 300;
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::vector<std::future<message>> futures;
      for (int i = 0; i < per_thread; ++i)
        futures.push_back(client.call(shard_id, set_request("t" + std::to_string(t) + "-" + std::to_string(i))));
      for (auto& f : futures)
        if (f.get().err.empty()) ++ok;
    });
  for (auto& w : workers) w.join();
  CHECK(ok.load() == threads * per_thread);
  remote_store store(std::make_shared<remote_client>(options_for({live.endpoint()})), shard_id);
  CHECK(store.GetDBInfo().info.metadata.at("write_index") == std::to_string(threads * per_thread));
}

TEST_CASE("destroying the client answers what is still open") {
  served silent(std::make_shared<refusing_shard>(0));
  std::future<message> open;
  {
    remote_client client(options_for({silent.endpoint()}, 10s));
    open = client.call(shard_id, set_request("k"));
    // Wait (bounded) until the request is on its way: a read of the same
    // connection after it answers only once the write was sent.
    const message probe = client.call_sync(shard_id + 1, get_request("k"));  // unknown shard: answered at once
    CHECK(probe.code == 3);
  }
  REQUIRE(open.wait_for(5s) == std::future_status::ready);
  CHECK(open.get().code == static_cast<std::uint8_t>(error_code::timeout));
}

}  // namespace
}  // namespace dkv::net
