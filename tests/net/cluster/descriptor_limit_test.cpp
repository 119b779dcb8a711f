// dkv serve out of file descriptors: a server started with a low
// RLIMIT_NOFILE, connections opened until it can accept no more — to the
// clients' port, then to the peers' port. Its accept loop must then pause,
// not spin (its CPU time stays low), say so in its log, go on answering the
// connections it has, and accept again — and say that too — once
// connections are closed. Bounded in time (a few seconds each); every
// process and socket it opens is closed at the end.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/protocol/frame.hpp"
#include "net/protocol/message.hpp"
#include "server_process.hpp"
#include "real/process/loopback_ports.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// The limit the server runs under: enough for its threads, epoll, files and
// listeners, and a few dozen connections.
constexpr int descriptor_limit = 64;

// A TCP connection over a plain socket, so that the test can wait for an
// answer and for something else (a log line) at once.
class connection {
 public:
  explicit connection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0;
    timeval tv{2, 0};  // a read that has begun is finished within this bound
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  bool connected() const { return connected_; }

  // Asks the lstore shard 100 for a key.
  bool ask(std::uint64_t request) {
    dkv::net::message get;
    get.type = dkv::net::message_type::get;
    get.key = "k";
    std::string payload, frame;
    dkv::net::encode(get, payload);
    dkv::net::append_frame(frame, 100, request, payload);
    return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size());
  }

  bool readable(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) == 1 && (p.revents & POLLIN);
  }

  // Reads one answer: a frame for `request` holding a decodable response.
  bool answered(std::uint64_t request) {
    std::string header(dkv::net::frame_header_bytes, '\0');
    if (!read_exactly(header)) return false;
    const dkv::net::frame_header h = dkv::net::read_frame_header(header.data());
    std::string payload(h.length, '\0');
    if (!read_exactly(payload)) return false;
    dkv::net::message response;
    std::string why;
    return h.request == request && dkv::net::decode(payload, response, why) &&
           response.type == dkv::net::message_type::get;
  }

 private:
  bool read_exactly(std::string& out) {
    std::size_t got = 0;
    while (got < out.size()) {
      const ssize_t n = ::recv(fd_, out.data() + got, out.size() - got, 0);
      if (n <= 0) return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }

  int fd_;
  bool connected_ = false;
};

// Polls (bounded) until `c` has an answer for `request`, or `give_up()`.
bool answer_within(
    connection& c, std::uint64_t request, std::chrono::milliseconds bound,
    const std::function<bool()>& give_up = [] { return false; }) {
  const auto deadline = steady::now() + bound;
  while (steady::now() < deadline) {
    if (c.readable(50ms)) return c.answered(request);
    if (give_up()) return false;
  }
  return false;
}

// The CPU time (user + system) a process has used so far, in seconds.
double cpu_seconds(pid_t pid) {
  const std::string stat = dkv::test::text_of("/proc/" + std::to_string(pid) + "/stat");
  // After the command's closing parenthesis: field 3 (state) on; utime is 14, stime 15.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A `dkv serve` under the descriptor limit, in a scratch folder, with a
// connection of its own to the clients' port once it is up.
struct limited_server {
  std::filesystem::path dir;
  std::vector<std::uint16_t> ports = dkv::real::free_ports(2);  // clients', peers'
  dkv::test::server_process process;
  std::unique_ptr<connection> first;
  std::uint64_t request = 0;

  // `flags`: the server's own (it may name this->peer_endpoint() and this->dir).
  explicit limited_server(const std::function<std::vector<std::string>(const limited_server&)>& flags) {
    char pattern[] = "/tmp/dkv-descriptors-XXXXXX";
    dir = ::mkdtemp(pattern);
    // The shell lowers the limit, then becomes the server (same pid).
    std::vector<std::string> args = {"-c",
                                     "ulimit -n " + std::to_string(descriptor_limit) + " && exec \"$0\" \"$@\"",
                                     DKV_BINARY,
                                     "serve",
                                     "--transport-endpoint",
                                     client_endpoint(),
                                     "--transport-workers",
                                     "2",
                                     "--log-level",
                                     "info"};
    for (std::string& flag : flags(*this)) args.push_back(std::move(flag));
    process.start("/bin/sh", args, log_path());
    const auto up_by = steady::now() + 10s;
    while (!first && steady::now() < up_by) {
      auto c = std::make_unique<connection>(ports[0]);
      if (c->connected() && c->ask(++request) && answer_within(*c, request, 2s))
        first = std::move(c);
      else
        std::this_thread::sleep_for(20ms);  // polling for the server to listen
    }
  }
  ~limited_server() {
    process.kill_now();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  std::string client_endpoint() const { return "127.0.0.1:" + std::to_string(ports[0]); }
  std::string peer_endpoint() const { return "127.0.0.1:" + std::to_string(ports[1]); }
  std::string log_path() const { return (dir / "server.log").string(); }
  std::string log() const { return dkv::test::text_of(log_path()); }
  bool logged(const std::string& text) const { return log().find(text) != std::string::npos; }

  // Polls the log (bounded) for `text`.
  bool logs_within(const std::string& text, std::chrono::milliseconds bound) const {
    const auto deadline = steady::now() + bound;
    while (!logged(text) && steady::now() < deadline) std::this_thread::sleep_for(20ms);  // polling the log
    return logged(text);
  }

  // The CPU time the server uses over one second: a measurement over a
  // fixed window, not a wait for anything.
  double cpu_over_a_second() {
    const double before = cpu_seconds(process.pid());
    std::this_thread::sleep_for(1s);
    return cpu_seconds(process.pid()) - before;
  }

  // Its first connection is still served.
  bool first_answers() { return first->ask(++request) && answer_within(*first, request, 5s); }

  // A new client connection is served within a bound.
  bool new_client_served() {
    connection fresh(ports[0]);
    return fresh.connected() && fresh.ask(++request) && answer_within(fresh, request, 5s);
  }
};

// What the listeners log (net/peer/accept_backoff.hpp): "LISTENER: cannot
// accept a connection (Too many open files) …" and "LISTENER: accepting again …".
std::string paused(const std::string& listener) {
  return "WARN  dkv serve: " + listener + ": cannot accept a connection (Too many open files)";
}
std::string resumed(const std::string& listener) { return "INFO  dkv serve: " + listener + ": accepting again"; }

// A spinning accept loop uses a full core; a paused one next to nothing.
constexpr double cpu_bound_s = 0.3;

// A sanitized server cannot be run out of descriptors: UBSan checks a
// virtual call it has not seen before by reading the object through a pipe,
// and with no descriptor left for the pipe it reports a bad vptr and aborts
// (in Asio's timer queue or a strand's destructor, as the listener pauses).
// The normal build runs these tests.
#ifdef DKV_SANITIZED
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif

}  // namespace

TEST_CASE("dkv serve out of descriptors pauses accepting clients, says so, keeps serving and accepts again",
          "[cluster][descriptors]") {
  if (sanitized) {
    WARN("skipped under the sanitizers: they need descriptors of their own");
    return;
  }
  limited_server server([](const limited_server&) { return std::vector<std::string>{"--shards", "100=lstore"}; });
  const std::string listener = "clients on tcp " + server.client_endpoint();
  REQUIRE(server.first);

  // More connections, each answered, until one is not: the server is out of
  // descriptors. It says so at once (or, on a server that does not, the
  // connection is left unanswered for a bounded while).
  std::vector<std::unique_ptr<connection>> held;
  std::unique_ptr<connection> waiting;
  std::uint64_t waiting_request = 0;
  while (!waiting && held.size() < 2 * descriptor_limit) {
    auto c = std::make_unique<connection>(server.ports[0]);
    REQUIRE(c->connected());  // the kernel completes it into the listen backlog
    REQUIRE(c->ask(++server.request));
    if (answer_within(*c, server.request, 3s, [&] { return server.logged(paused(listener)); })) {
      held.push_back(std::move(c));
    } else {
      waiting = std::move(c);
      waiting_request = server.request;
    }
  }
  INFO(held.size() << " more connections served before the limit\n" << server.log());
  REQUIRE(waiting);
  CHECK(held.size() > 10);
  CHECK(server.logged(paused(listener)));

  CHECK(server.cpu_over_a_second() < cpu_bound_s);
  CHECK(server.first_answers());

  // Descriptors free up: the waiting connection is accepted and answered
  // within the longest pause (1 s) and a margin, and the log says so.
  held.clear();
  CHECK(answer_within(*waiting, waiting_request, 5s));
  CHECK(server.logs_within(resumed(listener), 5s));
  CHECK(server.new_client_served());
  CHECK(server.process.stop(SIGTERM, 10s) == 0);
}

TEST_CASE("dkv serve out of descriptors pauses accepting peers, says so, keeps serving and accepts again",
          "[cluster][descriptors]") {
  if (sanitized) {
    WARN("skipped under the sanitizers: they need descriptors of their own");
    return;
  }
  limited_server server([](const limited_server& s) {
    return std::vector<std::string>{"--shards",   "100=lstore,200=dstore",  "--replica-id",
                                    "node-1",     "--cluster-members",      "node-1=" + s.peer_endpoint(),
                                    "--data-dir", (s.dir / "data").string()};
  });
  const std::string listener = "peers on " + server.peer_endpoint();
  REQUIRE(server.first);

  // Connections to the peers' port that never say hello: each holds one of
  // the server's descriptors, until none is left.
  std::vector<std::unique_ptr<connection>> held;
  for (int i = 0; i < 2 * descriptor_limit; ++i) {
    held.push_back(std::make_unique<connection>(server.ports[1]));
    REQUIRE(held.back()->connected());
  }
  INFO(server.log());
  CHECK(server.logs_within(paused(listener), 3s));

  CHECK(server.cpu_over_a_second() < cpu_bound_s);
  CHECK(server.first_answers());

  held.clear();
  CHECK(server.logs_within(resumed(listener), 5s));
  CHECK(server.new_client_served());
  CHECK(server.process.stop(SIGTERM, 10s) == 0);
}
