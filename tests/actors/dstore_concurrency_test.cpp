// Concurrent callers of one simulated dstore, as the conformance suite's
// single client cannot show: clients racing for one lock, each through its
// own client actor, with calls in flight at once.

#include <catch2/catch.hpp>

#include <set>

#include "sim/cluster/sim_client.hpp"

using namespace dkv;
using actors::store_answer;
using actors::store_call;

namespace {

store_call call(operation_kind op, std::string key, std::string value = {}, std::uint64_t delete_in = 0) {
  store_call c;
  c.op = static_cast<std::uint8_t>(op);
  c.key = std::move(key);
  c.value = std::move(value);
  c.delete_in = delete_in;
  return c;
}

}  // namespace

TEST_CASE("clients racing for a lock: one acquires, every write gets its own index", "[dstore][sim][concurrency]") {
  const auto seed = GENERATE(1u, 2u, 3u);
  sim::sim_cluster cluster(seed);
  cluster.sim().network().set_faults({.min_latency_ns = 100'000, .max_latency_ns = 3'000'000, .drop = 0.02});
  std::vector<std::unique_ptr<sim::sim_client>> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(std::make_unique<sim::sim_client>(cluster));

  // Acquire, as the lock manager does: SetEIfUnset(key, owner, 0, timeout), all at once.
  std::vector<std::optional<store_answer>> acquired(clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i)
    clients[i]->submit(call(operation_kind::set_e_if_unset, "lock", "owner" + std::to_string(i), 0),
                       [&acquired, i](const store_answer& a) { acquired[i] = a; });
  REQUIRE(cluster.sim().run_until(
      [&] { return std::all_of(acquired.begin(), acquired.end(), [](const auto& a) { return a.has_value(); }); },
      cluster.sim().now_ns() + 30'000'000'000));

  std::set<std::uint64_t> indexes;
  for (const auto& a : acquired) {
    REQUIRE(a->code == 0);
    CHECK(indexes.insert(a->index).second);  // every write its own index
  }
  CHECK(*indexes.begin() == 1);
  CHECK(*indexes.rbegin() == clients.size());

  // Then each reads the key: all see the same owner — the first writer by index.
  const store_answer held = clients[0]->call(call(operation_kind::get, "lock"));
  REQUIRE(held.code == 0);
  REQUIRE(held.found);
  const auto first = std::min_element(acquired.begin(), acquired.end(),
                                      [](const auto& a, const auto& b) { return a->index < b->index; });
  CHECK(held.value == "owner" + std::to_string(first - acquired.begin()));
  CHECK(held.index == clients.size());
  for (auto& c : clients) CHECK(c->call(call(operation_kind::get, "lock")).value == held.value);
}
