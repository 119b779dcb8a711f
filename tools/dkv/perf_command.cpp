#include "tools/dkv/perf_command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/lock_manager.hpp"
#include "store/lstore.hpp"

namespace dkv::tools {

namespace {

using clock_type = std::chrono::steady_clock;

std::string key_name(std::uint64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "key:%012llu", static_cast<unsigned long long>(i));
  return buffer;
}

struct thread_figures {
  std::vector<std::uint32_t> latency_ns;  // sampled
  std::uint64_t gets = 0, hits = 0, sets = 0, deletes = 0;
};

// 70% Get, 20% Set, 10% Delete over uniformly chosen keys.
void run_workload(lstore& store, const perf_options& o, unsigned thread, thread_figures& out) {
  std::mt19937_64 rng(o.seed * 1000003 + thread);
  const std::string value(o.value_bytes, 'v');
  const std::uint64_t per_thread = o.operations / o.threads;
  out.latency_ns.reserve(per_thread / 16 + 1);
  std::vector<std::string> keys;
  keys.reserve(4096);
  for (int i = 0; i < 4096; ++i) keys.push_back(key_name(rng() % o.keys));
  for (std::uint64_t i = 0; i < per_thread; ++i) {
    const std::string& key = keys[i % keys.size()];
    const auto roll = rng() % 10;
    const bool sample = i % 16 == 0;
    const auto start = sample ? clock_type::now() : clock_type::time_point{};
    if (roll < 7) {
      out.hits += store.Get(key).found;
      ++out.gets;
    } else if (roll < 9) {
      store.Set(key, value);
      ++out.sets;
    } else {
      store.Delete(key);
      ++out.deletes;
    }
    if (sample)
      out.latency_ns.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - start).count()));
    if (i % 4096 == 4095) keys[rng() % keys.size()] = key_name(rng() % o.keys);
  }
}

}  // namespace

void add_perf_command(CLI::App& app, perf_options& o, int& exit_code) {
  CLI::App* perf = app.add_subcommand("perf", "Drive a local store (lstore) and print figures");
  perf->add_option("--keys", o.keys, "Distinct keys")->check(CLI::Range(1ull, 1ull << 32));
  perf->add_option("--ops", o.operations, "Operations in total")->check(CLI::Range(1ull, 1ull << 40));
  perf->add_option("--threads", o.threads, "Client threads")->check(CLI::Range(1u, 256u));
  perf->add_option("--value-bytes", o.value_bytes, "Bytes per value")->check(CLI::Range(0ull, 1ull << 20));
  perf->add_option("--seed", o.seed, "Seed of the workload");
  perf->callback([&o, &exit_code] { exit_code = run_perf(o); });
}

int run_perf(const perf_options& o) {
  lstore store;
  const std::string value(o.value_bytes, 'v');
  const auto load_start = clock_type::now();
  for (std::uint64_t i = 0; i < o.keys; ++i) store.Set(key_name(i), value);
  const double load_s = std::chrono::duration<double>(clock_type::now() - load_start).count();

  std::vector<thread_figures> figures(o.threads);
  std::vector<std::thread> threads;
  const auto start = clock_type::now();
  for (unsigned t = 0; t < o.threads; ++t) threads.emplace_back([&, t] { run_workload(store, o, t, figures[t]); });
  for (auto& t : threads) t.join();
  const double run_s = std::chrono::duration<double>(clock_type::now() - start).count();

  thread_figures total;
  for (auto& f : figures) {
    total.gets += f.gets;
    total.hits += f.hits;
    total.sets += f.sets;
    total.deletes += f.deletes;
    total.latency_ns.insert(total.latency_ns.end(), f.latency_ns.begin(), f.latency_ns.end());
  }
  std::sort(total.latency_ns.begin(), total.latency_ns.end());
  auto pct = [&](double p) -> double {
    if (total.latency_ns.empty()) return 0;
    return total.latency_ns[std::min(total.latency_ns.size() - 1, std::size_t(p * total.latency_ns.size()))];
  };
  const std::uint64_t ops = total.gets + total.sets + total.deletes;

  std::string snapshot;
  const auto save_start = clock_type::now();
  store.Save(snapshot);
  const double save_s = std::chrono::duration<double>(clock_type::now() - save_start).count();
  lstore restored;
  const auto load2_start = clock_type::now();
  const error loaded = restored.Load(snapshot);
  const double restore_s = std::chrono::duration<double>(clock_type::now() - load2_start).count();
  const bool restored_same = loaded.ok() && restored.engine().Digest() == store.engine().Digest();

  std::mt19937_64 lock_rng(o.seed);
  lock_manager locks(store, [&] { return lock_rng(); });
  const auto lock = locks.AcquireLock("perf-lock", 1000);
  const auto unlock = locks.ReleaseLock("perf-lock", lock.owner_id);

  const db_info info = store.GetDBInfo().info;
  std::printf("dkv perf: lstore over %s, %llu keys, %llu-byte values, %u threads, seed %llu\n", info.engine.c_str(),
              static_cast<unsigned long long>(o.keys), static_cast<unsigned long long>(o.value_bytes), o.threads,
              static_cast<unsigned long long>(o.seed));
  std::printf("  load     %llu sets in %.3f s (%.2f M ops/s)\n", static_cast<unsigned long long>(o.keys), load_s,
              o.keys / load_s / 1e6);
  std::printf("  mixed    %llu ops (70%% get / 20%% set / 10%% delete) in %.3f s: %.2f M ops/s\n",
              static_cast<unsigned long long>(ops), run_s, ops / run_s / 1e6);
  std::printf("  latency  p50 %.0f ns, p99 %.0f ns, p99.9 %.0f ns (1 in 16 sampled)\n", pct(0.5), pct(0.99),
              pct(0.999));
  std::printf("  gets     %llu (%.1f%% found)\n", static_cast<unsigned long long>(total.gets),
              total.gets ? 100.0 * total.hits / total.gets : 0.0);
  std::printf("  snapshot %.1f MB saved in %.3f s (%.2f GB/s), loaded in %.3f s (%.2f GB/s): %s\n",
              snapshot.size() / 1e6, save_s, snapshot.size() / save_s / 1e9, restore_s,
              snapshot.size() / restore_s / 1e9,
              restored_same ? "digests match"
              : loaded.ok() ? "DIGESTS DIFFER"
                            : loaded.to_string().c_str());
  std::printf("  lock     acquired=%s fencing index %llu, released=%s\n", lock.acquired ? "yes" : "no",
              static_cast<unsigned long long>(lock.index), unlock.released ? "yes" : "no");
  std::printf("  store    write index %s, %s keys, %.1f MB\n", info.metadata.at("write_index").c_str(),
              info.metadata.at("key_count").c_str(), info.size_bytes / 1e6);
  return restored_same && lock.acquired && unlock.released ? 0 : 1;
}

}  // namespace dkv::tools
