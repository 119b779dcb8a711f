#include "tools/dkv/kv_perf.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
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
  if (ns < 1e3) std::snprintf(out, sizeof out, "%.0fns", ns);
  else if (ns < 1e6) std::snprintf(out, sizeof out, "%.3fµs", ns / 1e3);
  else if (ns < 1e9) std::snprintf(out, sizeof out, "%.3fms", ns / 1e6);
  else std::snprintf(out, sizeof out, "%.3fs", ns / 1e9);
  return out;
}

std::string key_of(unsigned thread, std::uint64_t i) {
  return "__test-" + std::to_string(thread) + "-" + std::to_string(i);
}

// One benchmark: what each call does (thread, its counter) and whether the
// keys are set first.
struct benchmark {
  const char* name;
  bool prefill;
  std::function<error(istore&, unsigned, std::uint64_t)> op;
};

std::vector<benchmark> benchmarks(const perf_flags& f) {
  auto value = std::make_shared<std::string>(f.value_size, '\0');
  auto large = std::make_shared<std::string>(f.large_value_kb << 10, '\0');
  const std::uint64_t keys = f.keys;
  return {
      {"set", false, [=](istore& s, unsigned t, std::uint64_t i) { return s.Set(key_of(t, i % keys), *value).err; }},
      {"set-large", false,
       [=](istore& s, unsigned t, std::uint64_t i) { return s.Set(key_of(t, i % keys), *large).err; }},
      {"get", true, [=](istore& s, unsigned t, std::uint64_t i) { return s.Get(key_of(t, i % keys)).err; }},
      {"delete", true, [=](istore& s, unsigned t, std::uint64_t i) { return s.Delete(key_of(t, i % keys)).err; }},
      {"has", true, [=](istore& s, unsigned t, std::uint64_t i) { return s.Has(key_of(t, i % keys)).err; }},
      {"has-not", false,
       [](istore& s, unsigned, std::uint64_t i) { return s.Has("__test/has-not-" + std::to_string(i % 100)).err; }},
      {"mixed", true,
       [=](istore& s, unsigned t, std::uint64_t i) {
         const std::string key = key_of(t, i % keys);
         switch (i % 4) {
           case 0: return s.Set(key, *value).err;
           case 1: return s.Get(key).err;
           case 2: return s.Delete(key).err;
           default: return s.Has(key).err;
         }
       }},
  };
}

std::set<std::string> names_in(const std::string& list) {
  std::set<std::string> names;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');)
    if (!name.empty()) names.insert(name);
  return names;
}

figures run(const benchmark& b, const perf_flags& f, const std::shared_ptr<net::remote_client>& client,
            std::uint64_t shard) {
  figures out;
  out.name = b.name;
  const std::string value(f.value_size, '\0');
  const auto each_thread = [&](const std::function<void(istore&, unsigned)>& body) {
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < f.threads; ++t)
      threads.emplace_back([&, t] {
        net::remote_store store(client, shard);
        body(store, t);
      });
    for (std::thread& t : threads) t.join();
  };
  if (b.prefill)
    each_thread([&](istore& s, unsigned t) {
      for (std::uint64_t i = 0; i < f.keys; ++i) s.Set(key_of(t, i), value);
    });

  std::mutex merge;
  std::atomic<bool> go{false};
  const auto deadline_after = std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(f.seconds));
  clock_type::time_point start{};
  std::atomic<unsigned> ready{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < f.threads; ++t)
    threads.emplace_back([&, t] {
      net::remote_store store(client, shard);
      std::vector<std::uint64_t> latencies;
      std::uint64_t ops = 0, errors = 0;
      std::string first_error;
      ++ready;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      const clock_type::time_point end = start + deadline_after;
      for (std::uint64_t i = 0;; ++i) {
        const clock_type::time_point before = clock_type::now();
        if (before >= end) break;
        const error e = b.op(store, t, i);
        ++ops;
        if (!e.ok() && errors++ == 0) first_error = e.to_string();
        if (f.sample_rate && i % f.sample_rate == 0)
          latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - before).count());
      }
      std::lock_guard<std::mutex> guard(merge);
      out.ops += ops;
      out.errors += errors;
      if (out.first_error.empty()) out.first_error = first_error;
      out.latency_ns.insert(out.latency_ns.end(), latencies.begin(), latencies.end());
    });
  while (ready.load() < f.threads) std::this_thread::yield();
  start = clock_type::now();
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();
  out.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::sort(out.latency_ns.begin(), out.latency_ns.end());

  if (b.prefill || std::string_view(b.name).starts_with("set"))
    each_thread([&](istore& s, unsigned t) {
      for (std::uint64_t i = 0; i < f.keys; ++i) s.Delete(key_of(t, i));
    });
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
  if (r.errors) std::printf("\terrors=%llu (first: %s)", static_cast<unsigned long long>(r.errors), r.first_error.c_str());
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
  if (error e = make_client(c, client); !e.ok()) return fail(e.message());
  const std::set<std::string> skip = names_in(f.skip), only = names_in(f.only);
  const std::vector<benchmark> all = benchmarks(f);
  for (const std::string& name : skip) {
    if (std::none_of(all.begin(), all.end(), [&](const benchmark& b) { return name == b.name; }))
      return fail("--skip " + name + ": no such benchmark (set, set-large, get, delete, has, has-not, mixed)");
  }
  for (const std::string& name : only) {
    if (std::none_of(all.begin(), all.end(), [&](const benchmark& b) { return name == b.name; }))
      return fail("--only " + name + ": no such benchmark (set, set-large, get, delete, has, has-not, mixed)");
  }
  std::printf("dkv kv perf: shard %llu at %s, %u threads over %u connection(s) per endpoint, %llu-byte values "
              "(large %llu KB), %llu keys per thread, %.1f s per benchmark\n",
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
      r = run(b, f, client, c.shard);
      failed |= r.errors > 0;
    }
    print(r);
    std::fflush(stdout);
    results.push_back(std::move(r));
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
  perf->add_option("--threads", f.threads, "Client threads")->check(CLI::Range(1u, 4096u))->capture_default_str();
  perf->add_option("--value-size", f.value_size, "Bytes per value")->check(CLI::Range(0ull, 16ull << 20))
      ->capture_default_str();
  perf->add_option("--large-value-size", f.large_value_kb, "KB per value in set-large")
      ->check(CLI::Range(1ull, 16ull << 10))->capture_default_str();
  perf->add_option("--keys", f.keys, "Keys per thread")->check(CLI::Range(1ull, 1ull << 24))->capture_default_str();
  perf->add_option("--csv", f.csv, "Also write the results to this CSV file");
  perf->add_option("--sample-rate", f.sample_rate, "Time 1 call in N (0: none)")->capture_default_str();
  perf->add_option("--seconds", f.seconds, "Seconds per benchmark")->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  perf->callback([&c, &exit_code] { exit_code = run_perf(f, c); });
}

}  // namespace dkv::tools
