// Several threads issue random operations on one lstore and record every
// call with its result and index. Afterwards: write indexes are unique and
// consecutive and follow each thread's order, and every read equals what a
// sequential replay of the writes (in index order) shows at the read's index.

#include <catch2/catch.hpp>
#include <algorithm>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "store/lstore.hpp"
#include "tests/support/reference_store.hpp"

namespace {

enum class op { set, set_e, set_e_if_unset, expire, remove, remove_if_value, get, has };

struct record {
  int thread = 0;
  op kind = op::get;
  std::string key, value;
  std::uint64_t e = 0, d = 0;
  // result
  bool found = false;  // get / has / deleted
  std::string read_value;
  std::uint64_t index = 0;
  bool is_write() const { return kind != op::get && kind != op::has; }
};

std::vector<record> run_thread(dkv::lstore& store, int thread, std::uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  std::vector<record> log;
  log.reserve(count);
  for (int i = 0; i < count; ++i) {
    record r;
    r.thread = thread;
    r.kind = static_cast<op>(rng() % 8);
    r.key = "k" + std::to_string(rng() % 6);
    r.value = "v" + std::to_string(rng() % 4);
    r.e = rng() % 4;
    r.d = rng() % 6;
    switch (r.kind) {
      case op::set: r.index = store.Set(r.key, r.value).index; break;
      case op::set_e: r.index = store.SetE(r.key, r.value, r.e, r.d).index; break;
      case op::set_e_if_unset: r.index = store.SetEIfUnset(r.key, r.value, r.e, r.d).index; break;
      case op::expire: r.index = store.Expire(r.key).index; break;
      case op::remove: r.index = store.Delete(r.key).index; break;
      case op::remove_if_value: {
        auto res = store.DeleteIfValue(r.key, r.value);
        r.index = res.index;
        r.found = res.deleted;
        break;
      }
      case op::get: {
        auto res = store.Get(r.key);
        r.index = res.index;
        r.found = res.found;
        r.read_value = res.value;
        break;
      }
      case op::has: {
        auto res = store.Has(r.key);
        r.index = res.index;
        r.found = res.found;
        break;
      }
    }
    log.push_back(std::move(r));
  }
  return log;
}

}  // namespace

TEST_CASE("concurrent clients on lstore see a linearizable, index-ordered store", "[lstore][concurrency]") {
  const int threads = 4, per_thread = 20000;
  const auto seed = GENERATE(1u, 2u, 3u);
  dkv::lstore store;
  std::vector<std::vector<record>> logs(threads);
  {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] { logs[t] = run_thread(store, t, seed * 100 + t, per_thread); });
    for (auto& w : workers) w.join();
  }

  // Per thread: write indexes strictly increase, read indexes never go back.
  std::map<std::uint64_t, const record*> writes;
  std::vector<const record*> reads;
  for (const auto& log : logs) {
    std::uint64_t last = 0;
    for (const auto& r : log) {
      if (r.is_write()) {
        REQUIRE(r.index > last);
        REQUIRE(writes.emplace(r.index, &r).second);  // unique
      } else {
        REQUIRE(r.index >= last);
        reads.push_back(&r);
      }
      last = r.index;
    }
  }
  // Consecutive: exactly 1..N.
  REQUIRE(!writes.empty());
  CHECK(writes.begin()->first == 1);
  CHECK(writes.rbegin()->first == writes.size());

  // Replay the writes in index order; check each read at its index.
  std::stable_sort(reads.begin(), reads.end(), [](auto* a, auto* b) { return a->index < b->index; });
  dkv::test::reference_store model;
  auto next_read = reads.begin();
  auto check_reads_at = [&](std::uint64_t index) {
    for (; next_read != reads.end() && (*next_read)->index == index; ++next_read) {
      const record& r = **next_read;
      INFO("thread " << r.thread << " read " << r.key << " at index " << index);
      if (r.kind == op::get) {
        const auto want = model.get(r.key);
        REQUIRE(r.found == want.has_value());
        REQUIRE(r.read_value == want.value_or(""));
      } else {
        REQUIRE(r.found == model.has(r.key));
      }
    }
  };
  check_reads_at(0);
  for (const auto& [index, w] : writes) {
    switch (w->kind) {
      case op::set: model.set(w->key, w->value, index); break;
      case op::set_e: model.set_e(w->key, w->value, w->e, w->d, index); break;
      case op::set_e_if_unset: model.set_e_if_unset(w->key, w->value, w->e, w->d, index); break;
      case op::expire: model.expire(w->key, index); break;
      case op::remove: model.remove(w->key, index); break;
      case op::remove_if_value: REQUIRE(model.remove_if_value(w->key, w->value, index) == w->found); break;
      default: break;
    }
    check_reads_at(index);
  }
  CHECK(next_read == reads.end());
}
