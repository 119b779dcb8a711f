#include "tools/dkv/serve_command.hpp"

#include <CLI/CLI.hpp>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/server/adjustable_clock.hpp"
#include "net/server/server.hpp"
#include "store/bugs.hpp"
#include "tools/dkv/log.hpp"

namespace dkv::tools {

namespace {

struct serve_flags {
  std::string shards = "100=lstore,200=lockmgr(lstore)";
  std::string replica_id;
  std::string cluster_members;
  std::string cluster_token;
  std::string peer_via;
  std::vector<std::string> bugs;
  std::string clock_file;
  std::string data_dir = "data";
  std::uint64_t snapshot_entries = 100'000;
  std::uint64_t compaction_overhead = 5'000;
  std::uint64_t rtt_ms = 100;
  std::uint32_t election_rtt_factor = 10;
  std::uint32_t heartbeat_rtt_factor = 2;
  std::int64_t timeout_s = 5;
  std::string log_level = "info";
  bool accept_data_loss = false;
  std::string transport = "tcp";
  std::string serializer = "binary";
  std::string endpoint = "0.0.0.0:8080";
  // I/O threads for the client connections. dKV's default is 10; on the
  // 2-core machine 2 serve 100 clients best (dkv kv perf, 3 nodes: 20 k
  // puts/s and 50 k reads/s with 2 threads, 12 k and 31 k with 10).
  unsigned workers = 2;
  std::uint64_t write_buffer_kb = 512;
  std::uint64_t read_buffer_kb = 512;
  bool tcp_nodelay = true;
  std::int64_t tcp_keepalive_s = 60;
  std::int64_t tcp_linger_s = 10;
  std::int64_t idle_timeout_s = 300;
  unsigned actor_threads = 2;
};

// Turns the flags into server options, or says which flag is wrong.
error to_options(const serve_flags& f, net::server_options& o) {
  if (f.serializer != "binary")
    return invalid_operation("--serializer " + f.serializer + ": dkv speaks the binary encoding only");
  if (f.transport != "tcp" && f.transport != "unix")
    return invalid_operation("--transport " + f.transport + ": tcp or unix (dkv has no http transport)");
  if (error e = net::parse_shards(f.shards, o.shards); !e.ok()) return invalid_operation("--shards: " + e.message());
  const bool replicated = std::any_of(o.shards.begin(), o.shards.end(),
                                      [](const net::shard_spec& s) { return s.kind == net::shard_kind::dstore; });
  if (replicated) {
    if (f.replica_id.empty()) return invalid_operation("--replica-id is required for dstore shards");
    if (error e = net::parse_members(f.cluster_members, o.members); !e.ok())
      return invalid_operation("--cluster-members: " + e.message());
    if (error e = net::member_number(o.members, f.replica_id, o.self); !e.ok()) return e;
    o.cluster_token = f.cluster_token;
    if (!f.peer_via.empty())
      if (error e = net::parse_members(f.peer_via, o.peer_via); !e.ok())
        return invalid_operation("--peer-via: " + e.message());
  }
  o.data_dir = f.data_dir;
  o.snapshot_entries = f.snapshot_entries;
  o.accept_data_loss = f.accept_data_loss;
  o.rtt_ms = f.rtt_ms;
  o.election_rtt_factor = f.election_rtt_factor;
  o.heartbeat_rtt_factor = f.heartbeat_rtt_factor;
  o.timeout = std::chrono::seconds(f.timeout_s);
  o.actor_threads = f.actor_threads;
  o.clients.transport = f.transport;
  o.clients.endpoint = f.endpoint;
  o.clients.workers = f.workers;
  o.clients.tcp.no_delay = f.tcp_nodelay;
  o.clients.tcp.send_buffer_bytes = f.write_buffer_kb << 10;
  o.clients.tcp.receive_buffer_bytes = f.read_buffer_kb << 10;
  o.clients.tcp.keepalive = std::chrono::seconds(std::max<std::int64_t>(0, f.tcp_keepalive_s));
  if (f.tcp_linger_s >= 0) o.clients.tcp.linger = std::chrono::seconds(f.tcp_linger_s);
  o.clients.idle_timeout = std::chrono::seconds(f.idle_timeout_s);
  o.report = [](net::report_level level, const std::string& text) {
    const std::string line = "dkv serve: " + text;
    if (level == net::report_level::error)
      log::error(line);
    else if (level == net::report_level::warn)
      log::warn(line);
    else
      log::info(line);
  };
  return net::validate(o);
}

// Sets the clock from --clock-file's "SKEW_NS DRIFT_PPM", or says why not
// and leaves it as it was. No file is no error: the clock runs true.
void read_clock_file(const std::string& path, net::adjustable_clock& clock) {
  std::ifstream in(path);
  if (!in) {
    clock.set({});
    return;
  }
  actors::clock_error e;
  constexpr std::int64_t max_skew = net::adjustable_clock::max_skew_ns;
  if (!(in >> e.skew_ns >> e.drift_ppm) || e.skew_ns < -max_skew || e.skew_ns > max_skew || e.drift_ppm <= -1'000'000 ||
      e.drift_ppm >= 1'000'000) {
    log::error("dkv serve: --clock-file " + path + ": not \"SKEW_NS DRIFT_PPM\" (|skew| <= 1 h, |drift| < 10^6 ppm); "
               "the clock stays as it was");
    return;
  }
  clock.set(e);
  log::info("dkv serve: clock set " + std::to_string(e.skew_ns) + " ns off, drifting " + std::to_string(e.drift_ppm) +
            " ppm");
}

// Waits for SIGTERM or SIGINT, or for a fatal failure of the server (which
// raises SIGTERM itself). The signals are blocked in every thread, so that
// only this sigwait() sees them. SIGUSR1 re-reads --clock-file.
int serve(const serve_flags& flags) {
  net::server_options options;
  if (error e = to_options(flags, options); !e.ok()) {
    log::error("dkv serve: " + e.message());
    return 2;
  }
  dkv::bugs::bug_set bugs = 0;
  for (const std::string& name : flags.bugs) {
    const std::optional<dkv::bugs::bug> b = dkv::bugs::find(name);
    if (!b) {
      log::error("dkv serve: --bug " + name + ": no such bug (dkv-sim bugs --list)");
      return 2;
    }
    bugs |= dkv::bugs::bit(*b);
  }
  const dkv::bugs::scoped_bugs injected(bugs);
  if (!log::set_level(flags.log_level)) {
    log::error("dkv serve: --log-level " + flags.log_level + ": debug, info, warn or error");
    return 2;
  }
  if (bugs != 0) log::warn("dkv serve: injected bugs are on: this server is broken on purpose");
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  if (!flags.clock_file.empty()) sigaddset(&stop_signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::shared_ptr<net::adjustable_clock> clock;
  if (!flags.clock_file.empty()) {
    clock = std::make_shared<net::adjustable_clock>();
    read_clock_file(flags.clock_file, *clock);
    options.clock = clock;
  }
  signal(SIGPIPE, SIG_IGN);

  std::mutex fatal_mutex;
  std::string fatal;
  net::server server(options);
  server.on_fatal([&](std::string why) {
    {
      std::lock_guard<std::mutex> guard(fatal_mutex);
      if (!fatal.empty()) return;
      fatal = std::move(why);
    }
    kill(getpid(), SIGTERM);
  });
  log::info("dkv serve: shards " + flags.shards + (options.self ? ", replica " + flags.replica_id : ""));
  if (options.self) {
    // What the peers compare: an operator can check two servers' lines for one cluster.
    const net::cluster_identity identity = net::identity_of(options);
    log::info("dkv serve: cluster " + net::id_text(identity.id) + ": members " + identity.members +
              (options.cluster_token.empty() ? ", no --cluster-token" : ", with a --cluster-token"));
  }
  if (error e = server.start(); !e.ok()) {
    log::error("dkv serve: " + e.message());
    return e.code() == error_code::invalid_operation ? 2 : 1;  // a configuration the data refuses, or a failure
  }
  log::info("dkv serve: listening for clients on " + flags.transport + " " + flags.endpoint +
            (flags.transport == "tcp" ? " (port " + std::to_string(server.client_port()) + ")" : ""));
  int received = 0;
  for (;;) {
    sigwait(&stop_signals, &received);
    if (received != SIGUSR1) break;
    read_clock_file(flags.clock_file, *clock);
  }
  {
    std::lock_guard<std::mutex> guard(fatal_mutex);
    if (!fatal.empty()) {
      log::error("dkv serve: " + fatal + "; stopping");
      server.stop();
      return 1;
    }
  }
  log::info(std::string("dkv serve: ") + (received == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
  server.stop();
  log::info("dkv serve: stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<serve_flags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run a dkv server until SIGTERM or SIGINT");
  const auto flag = [cmd](const std::string& name, auto& value, const std::string& help) {
    std::string env = "DKV_" + name;
    for (char& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return cmd->add_option("--" + name, value, help)->envname(env)->capture_default_str();
  };
  flag("shards", flags->shards, "Shards as ID=KIND,…; KIND: lstore, dstore, lockmgr(lstore), lockmgr(dstore)");
  flag("replica-id", flags->replica_id, "This server's name among --cluster-members");
  flag("cluster-members", flags->cluster_members, "Every member as NAME=HOST:PORT,… (the Raft peer addresses)");
  flag("cluster-token", flags->cluster_token,
       "Names this cluster apart from others given the same --cluster-members; every member needs the same");
  flag("peer-via", flags->peer_via,
       "Dial some members elsewhere than --cluster-members says, as NAME=HOST:PORT,… (a proxy or tunnel in "
       "between); the cluster's identity still comes from --cluster-members");
  flag("data-dir", flags->data_dir, "Where the replicas of dstore shards keep their logs and snapshots");
  flag("snapshot-entries", flags->snapshot_entries, "Applied entries between a replica's snapshots")
      ->check(CLI::Range(1ull, 1ull << 40));
  cmd->add_flag("--accept-data-loss", flags->accept_data_loss,
                "A replica alone (its shard's only voter) whose storage is damaged starts anyway, serving what is "
                "left; without it, it refuses to start and says what is lost")
      ->envname("DKV_ACCEPT_DATA_LOSS");
  flag("compaction-overhead", flags->compaction_overhead,
       "Accepted for dKV compatibility; dkv compacts the log at each snapshot");
  flag("rtt-millisecond", flags->rtt_ms, "One Raft tick, in ms")->check(CLI::Range(1ull, 60'000ull));
  flag("election-rtt-factor", flags->election_rtt_factor, "Election timeout, in ticks")->check(CLI::Range(2u, 10'000u));
  flag("heartbeat-rtt-factor", flags->heartbeat_rtt_factor, "Heartbeat interval, in ticks")
      ->check(CLI::Range(1u, 10'000u));
  flag("timeout", flags->timeout_s, "A request's deadline inside the cluster, in seconds")
      ->check(CLI::Range(1ll, 3600ll));
  flag("log-level", flags->log_level, "debug, info, warn or error");
  flag("transport", flags->transport, "tcp or unix");
  flag("serializer", flags->serializer, "binary (the only encoding dkv speaks)");
  flag("transport-endpoint", flags->endpoint, "Where clients connect: HOST:PORT, or a socket path for unix");
  flag("transport-workers", flags->workers, "I/O threads serving client connections")->check(CLI::Range(1u, 1'024u));
  flag("transport-write-buffer", flags->write_buffer_kb, "Socket send buffer, KB (0: the system's)")
      ->check(CLI::Range(0ull, 1ull << 20));
  flag("transport-read-buffer", flags->read_buffer_kb, "Socket receive buffer, KB (0: the system's)")
      ->check(CLI::Range(0ull, 1ull << 20));
  flag("transport-tcp-nodelay", flags->tcp_nodelay, "TCP_NODELAY on client connections");
  flag("transport-tcp-keepalive", flags->tcp_keepalive_s, "TCP keepalive period in seconds (0: off)");
  flag("transport-tcp-linger", flags->tcp_linger_s, "SO_LINGER in seconds (negative: off)");
  flag("transport-idle-timeout", flags->idle_timeout_s, "Close a client connection idle this long, in seconds")
      ->check(CLI::Range(1ll, 86'400ll));
  flag("actor-threads", flags->actor_threads, "Threads of the actor scheduler")->check(CLI::Range(1u, 256u));
  cmd->add_option("--bug", flags->bugs,
                  "For testing dkv's checks only: switch on an injected bug by name, as dkv-sim's --bug (repeatable; "
                  "`dkv-sim bugs --list` lists them)");
  cmd->add_option("--clock-file", flags->clock_file,
                  "For testing dkv's checks only: set the replicas' clock wrong by the file's \"SKEW_NS DRIFT_PPM\", "
                  "read at start and again at each SIGUSR1 (dkv-sim's real runs make clock faults so)");
  cmd->callback([flags, &exit_code] { exit_code = serve(*flags); });
}

}  // namespace dkv::tools
