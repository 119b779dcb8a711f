// lstore benchmarks with two client threads sharing one store: Get, Set and
// the 70/20/10 mix. Time per iteration is per operation per thread.

#include <benchmark/benchmark.h>

#include <memory>

#include "bench/store/workload.hpp"
#include "store/lstore.hpp"

namespace {

using namespace dkv::bench;

std::unique_ptr<dkv::lstore> shared_store;

void setup(benchmark::State& state) {
  if (state.thread_index() != 0) return;
  const auto n = static_cast<std::size_t>(state.range(0));
  shared_store = std::make_unique<dkv::lstore>();
  for (const auto& k : keys(n).present) shared_store->Set(k, value());
}

void teardown(benchmark::State& state) {
  if (state.thread_index() == 0) shared_store.reset();
}

template <typename Op>
void run(benchmark::State& state, Op op) {
  setup(state);
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto& k = keys(n).present;
  std::size_t i = (n / 2) * static_cast<std::size_t>(state.thread_index());
  unsigned roll = static_cast<unsigned>(state.thread_index()) * 3;
  for (auto _ : state) {
    op(*shared_store, k[i % n], roll);
    ++i;
    if (++roll == 10) roll = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  teardown(state);
}

void BM_lstore_get(benchmark::State& state) {
  run(state, [](dkv::lstore& s, const std::string& key, unsigned) { benchmark::DoNotOptimize(s.Get(key)); });
}

void BM_lstore_set(benchmark::State& state) {
  run(state, [](dkv::lstore& s, const std::string& key, unsigned) { benchmark::DoNotOptimize(s.Set(key, value())); });
}

void BM_lstore_mixed_70_20_10(benchmark::State& state) {
  run(state, [](dkv::lstore& s, const std::string& key, unsigned roll) {
    if (roll < 7)
      benchmark::DoNotOptimize(s.Get(key));
    else if (roll < 9)
      benchmark::DoNotOptimize(s.Set(key, value()));
    else
      benchmark::DoNotOptimize(s.Delete(key));
  });
}

}  // namespace

BENCHMARK(BM_lstore_get)->Arg(10'000)->Arg(1'000'000)->Threads(2)->UseRealTime();
BENCHMARK(BM_lstore_set)->Arg(10'000)->Arg(1'000'000)->Threads(2)->UseRealTime();
BENCHMARK(BM_lstore_mixed_70_20_10)->Arg(10'000)->Arg(1'000'000)->Threads(2)->UseRealTime();
