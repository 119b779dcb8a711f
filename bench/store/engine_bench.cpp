// Engine (flat_kvdb) benchmarks, single thread. Time per iteration is the
// time per operation, except for the *_batch ones, where ns_per_op says it.

#include <benchmark/benchmark.h>

#include <memory>

#include "bench/store/workload.hpp"
#include "store/engine/flat_kvdb.hpp"

namespace {

using dkv::flat_kvdb;
using namespace dkv::bench;

std::unique_ptr<flat_kvdb> loaded_engine(std::size_t n) {
  auto db = std::make_unique<flat_kvdb>();
  std::uint64_t w = 0;
  for (const auto& k : keys(n).present) db->Set(k, value(), ++w);
  return db;
}

void per_op_counter(benchmark::State& state, std::size_t ops_per_iteration) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * ops_per_iteration));
  state.counters["ns_per_op"] = benchmark::Counter(static_cast<double>(state.iterations() * ops_per_iteration),
                                                   benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Runs `op(engine, key)` over the shuffled keys, one per iteration.
template <typename Op>
void over_keys(benchmark::State& state, bool present, Op op) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto db = loaded_engine(n);
  const auto& k = present ? keys(n).present : keys(n).absent;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(op(*db, k[i]));
    if (++i == n) i = 0;
  }
}

void BM_engine_get(benchmark::State& state) {
  std::string out;
  over_keys(state, true, [&](flat_kvdb& db, const std::string& key) { return db.Get(key, out); });
}

void BM_engine_has_present(benchmark::State& state) {
  over_keys(state, true, [](flat_kvdb& db, const std::string& key) { return db.Has(key); });
}

void BM_engine_has_absent(benchmark::State& state) {
  over_keys(state, false, [](flat_kvdb& db, const std::string& key) { return db.Has(key); });
}

void BM_engine_set_existing(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto db = loaded_engine(n);
  const auto& k = keys(n).present;
  std::uint64_t w = db->WriteIdx();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(db->Set(k[i], value(), ++w));
    if (++i == n) i = 0;
  }
}

void BM_engine_set_e_existing(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto db = loaded_engine(n);
  const auto& k = keys(n).present;
  std::uint64_t w = db->WriteIdx();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(db->SetE(k[i], value(), 5000, 10000, ++w));
    if (++i == n) i = 0;
  }
}

// Inserts n new keys into an empty engine per iteration (creation untimed).
void BM_engine_set_new_batch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& k = keys(n).present;
  for (auto _ : state) {
    state.PauseTiming();
    auto db = std::make_unique<flat_kvdb>();
    state.ResumeTiming();
    std::uint64_t w = 0;
    for (const auto& key : k) benchmark::DoNotOptimize(db->Set(key, value(), ++w));
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
  }
  per_op_counter(state, n);
}

// Deletes every key of a loaded engine per iteration (loading untimed).
void BM_engine_delete_batch(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& k = keys(n).present;
  for (auto _ : state) {
    state.PauseTiming();
    auto db = loaded_engine(n);
    std::uint64_t w = db->WriteIdx();
    state.ResumeTiming();
    for (const auto& key : k) benchmark::DoNotOptimize(db->Delete(key, ++w));
    state.PauseTiming();
    db.reset();
    state.ResumeTiming();
  }
  per_op_counter(state, n);
}

// 70% Get, 20% Set, 10% Delete over the same shuffled keys.
void BM_engine_mixed_70_20_10(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto db = loaded_engine(n);
  const auto& k = keys(n).present;
  std::uint64_t w = db->WriteIdx();
  std::string out;
  std::size_t i = 0;
  unsigned roll = 0;
  for (auto _ : state) {
    if (roll < 7)
      benchmark::DoNotOptimize(db->Get(k[i], out));
    else if (roll < 9)
      benchmark::DoNotOptimize(db->Set(k[i], value(), ++w));
    else
      benchmark::DoNotOptimize(db->Delete(k[i], ++w));
    if (++roll == 10) roll = 0;
    if (++i == n) i = 0;
  }
}

void BM_engine_save(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto db = loaded_engine(n);
  std::string bytes;
  for (auto _ : state) {
    db->Save(bytes);
    benchmark::DoNotOptimize(bytes.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void BM_engine_load(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::string bytes;
  loaded_engine(n)->Save(bytes);
  flat_kvdb db;
  for (auto _ : state) {
    if (!db.Load(bytes).ok()) state.SkipWithError("load failed");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

}  // namespace

#define DKV_SIZES Arg(10'000)->Arg(1'000'000)
BENCHMARK(BM_engine_get)->DKV_SIZES;
BENCHMARK(BM_engine_has_present)->DKV_SIZES;
BENCHMARK(BM_engine_has_absent)->DKV_SIZES;
BENCHMARK(BM_engine_set_existing)->DKV_SIZES;
BENCHMARK(BM_engine_set_e_existing)->DKV_SIZES;
BENCHMARK(BM_engine_set_new_batch)->DKV_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_engine_delete_batch)->DKV_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_engine_mixed_70_20_10)->DKV_SIZES;
BENCHMARK(BM_engine_save)->DKV_SIZES->Unit(benchmark::kMillisecond);
BENCHMARK(BM_engine_load)->DKV_SIZES->Unit(benchmark::kMillisecond);
