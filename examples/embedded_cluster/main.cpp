// embedded_cluster: a CAF application with a 3-node dkv cluster inside it.
//
// "In-process" here means in dkv's simulator (for nodes in separate
// processes over TCP, see examples/three_processes): the three raft_node
// actors, the client actors and this application's own actors share one
// actor system under CAF's test coordinator, talk through the simulated
// network and keep their logs on simulated disks, in virtual time, all from
// one seed. The same seed prints the same trace hash on every run.
//
// The application talks to dkv in the two ways an application can:
//   1. through the IStore facade (dstore) — blocking calls, as a library;
//   2. from one of its own actors, with raw messages: a store_call request
//      to a client actor, answered with a store_answer.
// Its stock keeper then tells its auditor — another of its actors, on the
// simulated network — what it wrote, in a message type of its own
// (app::stock_report, in a type-ID block after dkv's).

#include <caf/event_based_actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "actors/actors.hpp"
#include "sim/sim.hpp"
#include "store/lock_manager.hpp"
#include "store/rng.hpp"

namespace app {

// What the stock keeper reports to the auditor: the count it wrote and the
// store write index of that write.
struct stock_report {
  std::string item;
  std::uint64_t count = 0;
  std::uint64_t index = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stock_report& x) {
  return f(caf::meta::type_name("app::stock_report"), x.item, x.count, x.index);
}

}  // namespace app

// The application's type IDs start where dkv's block ends.
CAF_BEGIN_TYPE_ID_BLOCK(inventory_app, caf::id_block::dkv_actors::end)
CAF_ADD_TYPE_ID(inventory_app, (app::stock_report))
CAF_END_TYPE_ID_BLOCK(inventory_app)

namespace {

using namespace dkv;
using actors::store_answer;

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// The stock keeper restocks apples by five: it reads the count, writes the
// new one, and reports the write to the auditor over the network. Raw
// messages: each step is a store_call request to its client actor.
caf::behavior stock_keeper(caf::event_based_actor* self, caf::actor client, std::shared_ptr<sim::network_port> port,
                           sim::node_id auditor) {
  self->request(client, caf::infinite, actors::calls::get("stock/apples")).then([=](store_answer& read) {
    if (read.code != 0) return self->quit();
    const std::uint64_t count = (read.found ? std::stoull(read.value) : 0) + 5;
    self->request(client, caf::infinite, actors::calls::set("stock/apples", std::to_string(count)))
        .then([=](store_answer& written) {
          if (written.code == 0)
            port->send(auditor, caf::make_message(app::stock_report{"apples", count, written.index}));
          self->quit();
        });
  });
  return {[](const app::stock_report&) {}};  // it only waits for its answers
}

}  // namespace

int main() {
  constexpr std::uint64_t seed = 2026;
  sim::sim_cluster_options options;
  options.configure = [](caf::actor_system_config& cfg) { cfg.add_message_types<caf::id_block::inventory_app>(); };
  sim::sim_cluster cluster{seed, options};
  sim::simulator& sim = cluster.sim();
  std::printf("embedded_cluster: 3 dkv nodes in dkv's simulator (seed %llu)\n", static_cast<unsigned long long>(seed));

  const std::optional<sim::node_id> leader = sim::wait_for_leader(cluster, 5'000'000'000);
  expect(leader.has_value(), "a leader is elected");
  if (!leader) return 1;
  std::printf("leader: node %u after %.1f ms of virtual time\n", *leader, ms(sim.now_ns()));

  std::printf("1. through the IStore facade (dstore)\n");
  sim::sim_client client{cluster};
  const std::unique_ptr<actors::dstore> store = client.store();
  const write_result set = store->Set("greeting", "hello");
  expect(set.err.ok(), "Set(greeting, hello) at index " + std::to_string(set.index));
  const get_result got = store->Get("greeting");
  expect(got.err.ok() && got.found && got.value == "hello", "Get(greeting) = " + got.value);

  lock_manager locks{*store, dkv::rng{seed}};
  const lock_acquire_result lock = locks.AcquireLock("lock/shelf", 0);
  expect(lock.err.ok() && lock.acquired, "AcquireLock(lock/shelf), fencing token " + std::to_string(lock.index));

  cluster.crash(*leader);
  const std::uint64_t crashed_at = sim.now_ns();
  const write_result again = store->Set("greeting", "hello again");
  expect(again.err.ok(), "Set(greeting, hello again) after the leader crashed, " +
                             std::to_string(static_cast<long long>(ms(sim.now_ns() - crashed_at))) +
                             " ms later, new leader node " + std::to_string(cluster.leader().value_or(0)));
  cluster.restart(*leader);
  const lock_release_result released = locks.ReleaseLock("lock/shelf", lock.owner_id);
  expect(released.err.ok() && released.released, "ReleaseLock(lock/shelf)");

  std::printf("2. raw messages from the application's own actor\n");
  std::optional<app::stock_report> audited;
  // A function actor takes at least one argument here: CAF 0.17.6 binds a
  // null reference for an empty argument tuple (UBSan reports it).
  const caf::actor auditor = sim.spawn(
      [](caf::event_based_actor*, std::optional<app::stock_report>* out) -> caf::behavior {
        return {[out](const app::stock_report& r) { *out = r; }};
      },
      &audited);
  const auto auditor_port = sim::attach(cluster, sim::first_application_address, auditor);
  const caf::actor raw_client = cluster.add_client();
  const auto keeper_port =
      std::make_shared<sim::network_port>(sim.system(), sim.network(), sim::first_application_address + 1);
  sim.spawn(stock_keeper, raw_client, keeper_port, auditor_port->address());
  sim.run_until([&audited] { return audited.has_value(); }, sim.now_ns() + 10'000'000'000);
  expect(audited.has_value(), "the auditor heard from the stock keeper over the simulated network");
  if (audited) {
    const get_result apples = store->Get("stock/apples");
    expect(apples.err.ok() && apples.value == std::to_string(audited->count) && apples.index == audited->index,
           "stock/apples = " + apples.value + " at index " + std::to_string(apples.index) + ", as reported");
  }

  std::printf("simulated %.1f ms in %llu scheduler steps, trace hash %016llx\n", ms(sim.now_ns()),
              static_cast<unsigned long long>(sim.steps()), static_cast<unsigned long long>(sim.trace().value()));
  if (failures > 0) {
    std::printf("FAIL: %d check(s) failed\n", failures);
    return 1;
  }
  std::printf("PASS: embedded_cluster\n");
  return 0;
}
