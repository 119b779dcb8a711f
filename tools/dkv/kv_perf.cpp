#include "tools/dkv/kv_perf.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "net/client/remote_store.hpp"
#include "tools/dkv/client_flags.hpp"

namespace dkv::tools {

namespace {

using clock_type = std::chrono::steady_clock;

struct perf_flags {
  std::string skip;
  std::string only;
  unsigned threads = 10;
  std::uint64_t value_size = 128;
  std::uint64_t large_value_kb = 512;
  std::uint64_t keys = 100;
  std::string csv;
  unsigned sample_rate = 1;
  double seconds = 1.0;
};

struct figures {
  std::string name;
  bool skipped = false;
  bool cut_short = false;  // the server stopped answering (Unavailable or Timeout): the run stops
  std::uint64_t ops = 0, errors = 0;
  double seconds = 0;
  std::vector<std::uint64_t> latency_ns;  // sorted
  std::string first_error;

  double ns_per_op() const { return ops ? seconds * 1e9 / ops : 0; }
  double ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
  std::uint64_t percentile(double p) const {
    if (latency_ns.empty()) return 0;
    return latency_ns[std::min(latency_ns.size() - 1, static_cast<std::size_t>(p * latency_ns.size()))];
  }
};

// Go's Duration form, as dKV prints it: 812ns, 35.421µs, 2.5ms, 1.2s.
std::string duration(double ns) {
  char out[32];
  if (ns < 1e3)
    std::snprintf(out, sizeof out, "%.0fns", ns);
  else if (ns < 1e6)
    std::snprintf(out, sizeof out, "%.3fµs", ns / 1e3);
  else if (ns < 1e9)
    std::snprintf(out, sizeof out, "%.3fms", ns / 1e6);
  else
    std::snprintf(out, sizeof out, "%.3fs", ns / 1e9);
  return out;
}

std::string key_of(unsigned thread, std::uint64_t i) {
  return "__test-" + std::to_string(thread) + "-" + std::to_string(i);
}

// One benchmark: the request client t sends as its call number i, and
// whether the keys are set first.
struct benchmark {
  const char* name;
  bool prefill;
  std::function<net::message(unsigned, std::uint64_t)> request;
};

net::message request_of(net::message_type type, std::string key, const std::string& value = {}) {
  net::message m;
  m.type = type;
  m.key = std::move(key);
  m.value = value;
  return m;
}

std::vector<benchmark> benchmarks(const perf_flags& f) {
  using net::message_type;
  const std::string value(f.value_size, '\0');
  const std::string large(f.large_value_kb << 10, '\0');
  const std::uint64_t keys = f.keys;
  return {
      {"set", false,
       [=](unsigned t, std::uint64_t i) { return request_of(message_type::set, key_of(t, i % keys), value); }},
      {"set-large", false,
       [=](unsigned t, std::uint64_t i) { return request_of(message_type::set, key_of(t, i % keys), large); }},
      {"get", true, [=](unsigned t, std::uint64_t i) { return request_of(message_type::get, key_of(t, i % keys)); }},
      {"delete", true,
       [=](unsigned t, std::uint64_t i) { return request_of(message_type::remove, key_of(t, i % keys)); }},
      {"has", true, [=](unsigned t, std::uint64_t i) { return request_of(message_type::has, key_of(t, i % keys)); }},
      {"has-not", false,
       [](unsigned, std::uint64_t i) {
         return request_of(message_type::has, "__test/has-not-" + std::to_string(i % 100));
       }},
      {"mixed", true,
       [=](unsigned t, std::uint64_t i) {
         static constexpr message_type cycle[] = {message_type::set, message_type::get, message_type::remove,
                                                  message_type::has};
         return request_of(cycle[i % 4], key_of(t, i % keys), i % 4 == 0 ? value : std::string());
       }},
  };
}

// `clients` clients, each with one call in flight at a time, as dKV's perf
// runs goroutines: client t sends next(t, i) for i = 0, 1, ... until next
// gives nothing, and hears each answer in heard(t, i, answer, sent_at). The
// calls and both callbacks run on the remote client's I/O thread, so a
// client costs no thread of its own and the benchmark measures the servers,
// not this process switching between a hundred threads. Returns when every
// client has stopped.
using next_call = std::function<std::optional<net::message>(unsigned, std::uint64_t)>;
using heard_answer = std::function<void(unsigned, std::uint64_t, const net::message&, clock_type::time_point)>;

void run_clients(net::remote_client& rc, std::uint64_t shard, unsigned clients, const next_call& next,
                 const heard_answer& heard) {
  // Owned by the callbacks too: the last one may still be returning on the
  // I/O thread when this function has seen every client stop and returned.
  struct loop : std::enable_shared_from_this<loop> {
    std::mutex mutex;
    std::condition_variable all_stopped;
    unsigned running = 0;
    std::function<void(unsigned, std::uint64_t)> step;
  };
  const auto state = std::make_shared<loop>();
  state->running = clients;
  state->step = [&rc, shard, &next, &heard, self = state.get()](unsigned t, std::uint64_t i) {
    std::optional<net::message> request = next(t, i);
    if (!request) {
      const std::lock_guard lock(self->mutex);
      if (--self->running == 0) self->all_stopped.notify_one();
      return;
    }
    const clock_type::time_point sent = clock_type::now();
    rc.call(shard, std::move(*request), [&heard, owner = self->shared_from_this(), t, i, sent](net::message answer) {
      heard(t, i, answer, sent);
      owner->step(t, i + 1);
    });
  };
  for (unsigned t = 0; t < clients; ++t) state->step(t, 0);
  std::unique_lock lock(state->mutex);
  state->all_stopped.wait(lock, [&] { return state->running == 0; });
}

std::set<std::string> names_in(const std::string& list) {
  std::set<std::string> names;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');)
    if (!name.empty()) names.insert(name);
  return names;
}

// An answer that says no server took the call, or none answered it in time:
// with the server gone, every further call would wait out the whole timeout.
bool server_lost(const error& e) {
  return e.code() == error_code::unavailable || e.code() == error_code::timeout;
}

figures run(const benchmark& b, const perf_flags& f, net::remote_client& rc, std::uint64_t shard) {
  figures out;
  out.name = b.name;
  const std::string value(f.value_size, '\0');
  std::atomic<bool> lost{false};  // set on the I/O thread, read by the next call's choice there and here
  const auto note_lost = [&](const error& e) {
    if (!server_lost(e) || lost.exchange(true)) return;
    out.cut_short = true;
    out.first_error = e.to_string();
  };
  // Client t sends one request of `type` for each of its first keys[t] keys.
  const auto each_key = [&](net::message_type type, const std::string& v, const std::vector<std::uint64_t>& keys) {
    run_clients(
        rc, shard, f.threads,
        [&](unsigned t, std::uint64_t i) -> std::optional<net::message> {
          if (i >= keys[t] || lost) return std::nullopt;
          return request_of(type, key_of(t, i), v);
        },
        [&](unsigned, std::uint64_t, const net::message& answer, clock_type::time_point) {
          note_lost(net::error_of(answer));
        });
  };
  std::vector<std::uint64_t> keys_used(f.threads, b.prefill ? f.keys : 0);
  if (b.prefill) each_key(net::message_type::set, value, keys_used);
  if (lost) return out;

  const clock_type::time_point start = clock_type::now();
  const clock_type::time_point end =
      start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(f.seconds));
  run_clients(
      rc, shard, f.threads,
      [&](unsigned t, std::uint64_t i) -> std::optional<net::message> {
        if (clock_type::now() >= end || lost) return std::nullopt;
        return b.request(t, i);
      },
      [&](unsigned t, std::uint64_t i, const net::message& answer, clock_type::time_point sent) {
        ++out.ops;  // the I/O thread alone runs this
        keys_used[t] = std::max(keys_used[t], std::min(i + 1, f.keys));
        const error e = net::error_of(answer);
        note_lost(e);
        if (!e.ok() && out.errors++ == 0 && !out.cut_short) out.first_error = e.to_string();
        if (f.sample_rate && i % f.sample_rate == 0)
          out.latency_ns.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - sent).count());
      });
  out.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::sort(out.latency_ns.begin(), out.latency_ns.end());

  // Clean up the keys the benchmark may have set (not every key of --keys:
  // a short set run of a million keys per client touches few of them).
  if (!lost && (b.prefill || std::string_view(b.name).starts_with("set")))
    each_key(net::message_type::remove, {}, keys_used);
  return out;
}

void print(const figures& r) {
  if (r.skipped) {
    std::printf("%-20sskipped\n", r.name.c_str());
    return;
  }
  std::printf("%-20s%.0fns/op (%s/op)\t%.0f ops/sec", r.name.c_str(), r.ns_per_op(), duration(r.ns_per_op()).c_str(),
              r.ops_per_s());
  if (!r.latency_ns.empty())
    std::printf("\tLatency: p50=%s p95=%s p99=%s p99.9=%s", duration(r.percentile(0.5)).c_str(),
                duration(r.percentile(0.95)).c_str(), duration(r.percentile(0.99)).c_str(),
                duration(r.percentile(0.999)).c_str());
  if (r.errors)
    std::printf("\terrors=%llu (first: %s)", static_cast<unsigned long long>(r.errors), r.first_error.c_str());
  std::printf("\n");
}

error write_csv(const std::string& path, const std::vector<figures>& results, const perf_flags& f,
                const client_flags& c) {
  FILE* out = std::fopen(path.c_str(), "w");
  if (!out) return internal_error("cannot write " + path);
  std::fprintf(out,
               "Test,NsPerOp,DurationPerOp,OpsPerSec,Skipped,Endpoints,TimeoutSec,RetryCount,ConnectionsPerEndpoint,"
               "ShardID,Serializer,Transport,Threads,LargeValueSizeKB,Keys Count,LatencyP50,LatencyP95,LatencyP99,"
               "LatencyP999,Errors\n");
  std::string endpoints = c.endpoints;
  std::replace(endpoints.begin(), endpoints.end(), ',', ';');
  for (const figures& r : results) {
    const bool sampled = !r.latency_ns.empty();
    const auto p = [&](double q) { return sampled ? duration(r.percentile(q)) : std::string("N/A"); };
    std::fprintf(out, "%s,%.0f,%s,%.0f,%s,%s,%lld,%u,%u,%llu,%s,%s,%u,%llu,%llu,%s,%s,%s,%s,%llu\n", r.name.c_str(),
                 r.ns_per_op(), duration(r.ns_per_op()).c_str(), r.ops_per_s(), r.skipped ? "true" : "false",
                 endpoints.c_str(), static_cast<long long>(c.timeout_s), c.retries, c.connections_per_endpoint,
                 static_cast<unsigned long long>(c.shard), c.serializer.c_str(), c.transport.c_str(), f.threads,
                 static_cast<unsigned long long>(f.large_value_kb), static_cast<unsigned long long>(f.keys),
                 p(0.5).c_str(), p(0.95).c_str(), p(0.99).c_str(), p(0.999).c_str(),
                 static_cast<unsigned long long>(r.errors));
  }
  std::fclose(out);
  return {};
}

int run_perf(const perf_flags& f, const client_flags& c) {
  std::shared_ptr<net::remote_client> client;
  if (error e = make_client(c, client); !e.ok()) return bad_usage(e.message());
  const std::set<std::string> skip = names_in(f.skip), only = names_in(f.only);
  const std::vector<benchmark> all = benchmarks(f);
  for (const auto& [flag, names] : {std::pair{"--skip", &skip}, std::pair{"--only", &only}})
    for (const std::string& name : *names)
      if (std::none_of(all.begin(), all.end(), [&](const benchmark& b) { return name == b.name; }))
        return bad_usage(std::string(flag) + " " + name +
                         ": no such benchmark (set, set-large, get, delete, has, has-not, mixed)");
  std::printf(
      "dkv kv perf: shard %llu at %s, %u clients (--threads) over %u connection(s) per endpoint, "
      "%llu-byte values (large %llu KB), %llu keys per thread, %.1f s per benchmark\n",
      static_cast<unsigned long long>(c.shard), c.endpoints.c_str(), f.threads, c.connections_per_endpoint,
      static_cast<unsigned long long>(f.value_size), static_cast<unsigned long long>(f.large_value_kb),
      static_cast<unsigned long long>(f.keys), f.seconds);
  std::vector<figures> results;
  bool failed = false;
  for (const benchmark& b : all) {
    figures r;
    if (skip.count(b.name) || (!only.empty() && !only.count(b.name))) {
      r.name = b.name;
      r.skipped = true;
    } else {
      r = run(b, f, *client, c.shard);
      failed |= r.errors > 0 || r.cut_short;
    }
    print(r);
    std::fflush(stdout);
    const bool stop = r.cut_short;
    if (stop)
      std::fprintf(stderr, "dkv kv perf: stopped in %s: the server stopped answering (%s); the benchmarks left are not run\n",
                   r.name.c_str(), r.first_error.c_str());
    results.push_back(std::move(r));
    if (stop) break;
  }
  if (!f.csv.empty()) {
    if (error e = write_csv(f.csv, results, f, c); !e.ok()) return fail(e.message());
    std::printf("results written to %s\n", f.csv.c_str());
  }
  return failed ? 1 : 0;
}

}  // namespace

void add_kv_perf_command(CLI::App& kv, const client_flags& c, int& exit_code) {
  static perf_flags f;
  CLI::App* perf = kv.add_subcommand("perf", "Benchmark a server: set, set-large, get, delete, has, has-not, mixed");
  perf->add_option("--skip", f.skip, "Benchmarks to skip, comma-separated");
  perf->add_option("--only", f.only, "Only these benchmarks, comma-separated");
  perf->add_option("--threads", f.threads, "Concurrent clients, each with one call in flight")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  perf->add_option("--value-size", f.value_size, "Bytes per value")
      ->check(CLI::Range(0ull, 16ull << 20))
      ->capture_default_str();
  perf->add_option("--large-value-size", f.large_value_kb, "KB per value in set-large")
      ->check(CLI::Range(1ull, 16ull << 10))
      ->capture_default_str();
  perf->add_option("--keys", f.keys, "Keys per thread")->check(CLI::Range(1ull, 1ull << 24))->capture_default_str();
  perf->add_option("--csv", f.csv, "Also write the results to this CSV file");
  perf->add_option("--sample-rate", f.sample_rate, "Time 1 call in N (0: none)")->capture_default_str();
  perf->add_option("--seconds", f.seconds, "Seconds per benchmark")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  perf->callback([&c, &exit_code] { exit_code = run_perf(f, c); });
}

}  // namespace dkv::tools
