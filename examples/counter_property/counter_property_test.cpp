// A user's property test: the counter service (counter_service.hpp) and its
// user on dkv's simulated network with a 3-node dkv cluster; RapidCheck picks
// the seed, the number of increments, the user's pauses and a schedule of
// partitions and crashes, applied through dkv's fault API. After healing,
// the test checks the service's own invariant and the linearizability of
// every store call the service made (recorded as a docs/history.md history).

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "counter_service.hpp"
#include "check/check.hpp"
#include "sim/sim.hpp"

namespace {

using namespace dkv;
using next_atom = caf::atom_constant<caf::atom("next")>;

constexpr sim::node_id service_address = sim::first_application_address;  // 5001
constexpr sim::node_id user_address = sim::first_application_address + 1;
constexpr sim::node_id service_client_address = 1001;  // the first client the cluster adds

// One fault of a schedule, as RapidCheck draws it.
struct fault_step {
  unsigned gap_ms = 0;  // after the previous one
  unsigned kind = 0;    // crash, restart, isolate, split off with the service's client, heal
  sim::node_id node = 1;
};

struct scenario {
  std::uint64_t seed = 1;
  std::size_t increments = 1;
  unsigned think_ms = 0;  // the user's pause between increments
  std::vector<fault_step> faults;
};

struct outcome_tally {
  std::vector<std::uint64_t> ok_values;  // in reply order
  std::size_t failed = 0, unknown = 0, replies = 0;
};

struct run_result {
  outcome_tally tally;
  std::uint64_t final_value = 0;
  bool final_read_ok = true;
  check::check_report linearizability;
  std::size_t operations = 0, faults = 0;
  std::uint64_t virtual_ns = 0, trace_hash = 0;
};

// The user of the counter: sends `n` increments one after the other (a pause
// between), over the network, and tallies the replies.
caf::behavior counter_user(caf::event_based_actor* self, std::shared_ptr<sim::network_port> port, std::size_t n,
                           unsigned think_ms, std::shared_ptr<outcome_tally> tally) {
  auto sent = std::make_shared<std::size_t>(0);
  const auto send_next = [port, sent] {
    port->send(service_address, caf::make_message(counter::increment{port->address(), ++*sent}));
  };
  send_next();
  return {
      [=](const counter::increment_reply& reply) {
        ++tally->replies;
        switch (static_cast<counter::result>(reply.result)) {
          case counter::result::ok: tally->ok_values.push_back(reply.value); break;
          case counter::result::failed: ++tally->failed; break;
          case counter::result::unknown: ++tally->unknown; break;
        }
        if (*sent < n) self->delayed_send(self, std::chrono::milliseconds(think_ms), next_atom::value);
      },
      [=](next_atom) { send_next(); },
  };
}

std::vector<sim::timed_fault> schedule_of(const scenario& s, std::uint64_t start_ns) {
  std::vector<sim::timed_fault> out;
  std::uint64_t t = start_ns;
  for (const fault_step& f : s.faults) {
    t += f.gap_ms * 1'000'000ull;
    sim::fault what;
    switch (f.kind) {
      case 0: what = sim::faults::crash(f.node); break;
      case 1: what = sim::faults::restart(f.node); break;
      case 2: what = sim::faults::isolate(f.node); break;
      case 3: {  // the service's client with one node, the two others apart
        std::vector<sim::node_id> rest;
        for (sim::node_id n = 1; n <= 3; ++n)
          if (n != f.node) rest.push_back(n);
        what = sim::faults::split({{f.node, service_client_address}, rest});
        break;
      }
      default: what = sim::faults::heal(); break;
    }
    out.push_back({t, what});
  }
  // Then everything heals: the network whole, every node up.
  t += 500'000'000;
  out.push_back({t, sim::faults::heal()});
  for (sim::node_id n = 1; n <= 3; ++n) out.push_back({t, sim::faults::restart(n)});
  return out;
}

run_result run_counter(const scenario& s) {
  run_result out;
  sim::sim_cluster_options options;
  options.configure = [](caf::actor_system_config& cfg) { cfg.add_message_types<caf::id_block::counter_app>(); };
  sim::sim_cluster cluster{s.seed, options};
  sim::simulator& sim = cluster.sim();
  sim::history_recorder history;
  history.meta(0, s.seed, "counter_property", cluster.size());
  sim::store_call_recorder recorder{sim, history};

  // The service: its dkv client (answers within 2 s: Timeout or Unavailable
  // beyond), its place on the network.
  actors::client_config client;
  client.call_timeout_ns = 2'000'000'000;
  auto state = std::make_shared<counter::service_state>();
  state->store = cluster.add_client(client);
  state->recorder = &recorder;
  state->process = recorder.new_process();
  const caf::actor service = sim.spawn(counter::service, state);
  state->net = sim::attach(cluster, service_address, service);

  auto tally = std::make_shared<outcome_tally>();
  const auto user_port = std::make_shared<sim::network_port>(sim.system(), sim.network(), user_address);
  const caf::actor user = sim.spawn(counter_user, user_port, s.increments, s.think_ms, tally);
  sim.network().attach(user_address, user);

  const std::vector<sim::timed_fault> schedule = schedule_of(s, sim.now_ns() + 50'000'000);
  sim::schedule_faults(cluster, schedule, &history);
  out.faults = schedule.size();
  const std::uint64_t healed_ns = schedule.back().time_ns;

  // Every increment is answered (each store call within its 2 s), and the faults are over.
  sim.run_until([&] { return tally->replies == s.increments && sim.now_ns() >= healed_ns; },
                healed_ns + s.increments * 3'000'000'000ull + 10'000'000'000ull);
  out.tally = *tally;

  // Read the counter back: the slots claimed, through another client, recorded too.
  sim::sim_client reader{cluster};
  const std::uint32_t process = recorder.new_process();
  for (std::uint64_t k = 1;; ++k) {
    const actors::store_call has = actors::calls::has(counter::slot_key(k));
    const std::size_t id = recorder.invoke(process, has);
    const actors::store_answer answer = reader.call(has);
    recorder.complete(id, answer);
    if (answer.code != 0) {
      out.final_read_ok = false;
      break;
    }
    if (!answer.found) break;
    out.final_value = k;
  }
  out.operations = history.recorded().operations.size();
  out.linearizability = check::check_history(history.recorded());
  out.virtual_ns = sim.now_ns();
  out.trace_hash = sim.trace().value();
  return out;
}

// The counter's own invariant: acknowledged increments took effect once
// each, in order (the ok values are exactly 1, 2, …, acknowledged), failed
// ones never, unknown ones at most once.
void check_invariant(const scenario& s, const run_result& r) {
  RC_ASSERT(r.tally.replies == s.increments);
  RC_ASSERT(r.final_read_ok);
  for (std::size_t i = 0; i < r.tally.ok_values.size(); ++i) RC_ASSERT(r.tally.ok_values[i] == i + 1);
  RC_ASSERT(r.final_value >= r.tally.ok_values.size());
  RC_ASSERT(r.final_value <= r.tally.ok_values.size() + r.tally.unknown);
}

struct totals {
  std::size_t runs = 0, increments = 0, ok = 0, failed = 0, unknown = 0, faults = 0, operations = 0;
  std::uint64_t virtual_ns = 0;
};

}  // namespace

TEST_CASE("the counter survives partitions and crashes", "[counter]") {
  totals sum;
  rc::prop("counter invariant and a linearizable history", [&sum] {
    scenario s;
    s.seed = *rc::gen::inRange<std::uint64_t>(1, 1'000'000'000);
    s.increments = *rc::gen::inRange<std::size_t>(1, 30);
    s.think_ms = *rc::gen::inRange(0u, 300u);
    s.faults = *rc::gen::container<std::vector<fault_step>>(
        *rc::gen::inRange<std::size_t>(0, 8),
        rc::gen::build<fault_step>(rc::gen::set(&fault_step::gap_ms, rc::gen::inRange(50u, 1500u)),
                                   rc::gen::set(&fault_step::kind, rc::gen::inRange(0u, 5u)),
                                   rc::gen::set(&fault_step::node, rc::gen::inRange(1u, 4u))));
    const run_result r = run_counter(s);
    RC_LOG() << "seed " << s.seed << ", trace hash " << r.trace_hash << ", history: " << r.linearizability.summary;
    check_invariant(s, r);
    RC_ASSERT(r.linearizability.ok());
    ++sum.runs;
    sum.increments += s.increments;
    sum.ok += r.tally.ok_values.size();
    sum.failed += r.tally.failed;
    sum.unknown += r.tally.unknown;
    sum.faults += r.faults;
    sum.operations += r.operations;
    sum.virtual_ns += r.virtual_ns;
  });
  std::printf(
      "counter_property: %zu passing runs, %zu increments (ok %zu, failed %zu, unknown %zu), "
      "%zu faults, %zu store calls checked linearizable, %.1f s of virtual time\n",
      sum.runs, sum.increments, sum.ok, sum.failed, sum.unknown, sum.faults, sum.operations,
      static_cast<double>(sum.virtual_ns) / 1e9);
}

TEST_CASE("one seed, one run: the service is deterministic in the simulator", "[counter]") {
  scenario s;
  s.seed = 7;
  s.increments = 20;
  s.think_ms = 40;
  s.faults = {{100, 3, 1}, {400, 0, 2}, {600, 4, 1}, {300, 1, 2}};
  const run_result first = run_counter(s);
  const run_result second = run_counter(s);
  CHECK(first.trace_hash == second.trace_hash);
  CHECK(first.tally.ok_values == second.tally.ok_values);
  CHECK(first.linearizability.ok());
  std::printf(
      "counter_property: seed 7 twice: trace hash %016llx both times; %zu ok, %zu failed, %zu unknown; "
      "counter %llu; %s\n",
      static_cast<unsigned long long>(first.trace_hash), first.tally.ok_values.size(), first.tally.failed,
      first.tally.unknown, static_cast<unsigned long long>(first.final_value), first.linearizability.summary.c_str());
}
