// The simulated dstore cluster at work: three raft_node actors on the
// simulated network and disks, 1% drops, one node isolated for 2 s every
// simulated 10 s. (a) light: 10 client commands per simulated second —
// simulated seconds per wall second; (b) saturating: 32 clients back to
// back — client commands and network deliveries per wall second.

#include <caf/event_based_actor.hpp>

#include <chrono>
#include <cstdio>
#include <map>

#include "actors/messages.hpp"
#include "sim/cluster/sim_cluster.hpp"
#include "store/replicated/log_command.hpp"

namespace {

using namespace dkv;
using clock_type = std::chrono::steady_clock;  // the benchmark's stopwatch, outside the simulation
constexpr std::uint64_t second = 1'000'000'000;
constexpr sim::node_id client = 1001;

struct driver_state {
  std::string command;
  std::uint64_t next_request = 0;
  std::uint64_t done = 0;
  sim::node_id target = 1;
  sim::sim_network* network = nullptr;
  sim::simulator* sim = nullptr;
  bool closed_loop = false;                        // answer each outcome with the next command
  std::map<std::uint64_t, std::uint64_t> waiting;  // request -> sent at (closed loop)

  void send() {
    network->route(client, target, caf::make_message(actors::propose_command{client, ++next_request, command}));
    if (closed_loop) waiting[next_request] = sim->now_ns();
  }
  // Clients give up on an answer after 50 ms (lost on the way) and go on.
  void refill(std::size_t clients) {
    std::erase_if(waiting, [&](const auto& w) { return w.second + 50'000'000 < sim->now_ns(); });
    while (waiting.size() < clients) send();
  }
};

caf::behavior driver(caf::event_based_actor*, driver_state* state) {
  return {[state](const actors::command_outcome& o) {
    if (o.code == 0) ++state->done;
    if (o.leader != 0)
      state->target = static_cast<sim::node_id>(o.leader);
    else if (o.code != 0)
      state->target = state->target % 3 + 1;
    if (state->closed_loop && state->waiting.erase(o.request)) state->send();
  }};
}

struct result {
  double simulated_s, wall_s;
  std::uint64_t commands, deliveries;
};

result run(bool saturating, std::uint64_t simulated_ns) {
  sim::sim_cluster cluster(1);
  sim::simulator& s = cluster.sim();
  s.network().set_faults({.min_latency_ns = 200'000, .max_latency_ns = 2'000'000, .drop = 0.01});
  driver_state state;
  replicated::encode_open_session(state.command);
  state.network = &s.network();
  state.sim = &s;
  state.closed_loop = saturating;
  s.network().attach(client, s.spawn(driver, &state));
  for (std::uint64_t t = 10 * second; t < simulated_ns; t += 10 * second) {
    const sim::node_id victim = static_cast<sim::node_id>(1 + t / (10 * second) % 3);
    s.at(t, "isolate", [&cluster, victim] { cluster.cuts().isolate(victim, {1, 2, 3}); });
    s.at(t + 2 * second, "heal", [&cluster] { cluster.cuts().heal(); });
  }
  if (saturating) {
    // 32 clients in flight; each outcome sends the next, and a lost one is
    // replaced after 50 ms.
    for (std::uint64_t t = second; t < simulated_ns; t += 10'000'000) s.at(t, "refill", [&state] { state.refill(32); });
  } else {
    for (std::uint64_t t = second; t < simulated_ns; t += 100'000'000) s.at(t, "command", [&state] { state.send(); });
  }
  const auto start = clock_type::now();
  s.run_until(simulated_ns);
  const double wall = std::chrono::duration<double>(clock_type::now() - start).count();
  return {simulated_ns / 1e9, wall, state.done, s.network().stats().delivered};
}

}  // namespace

int main() {
  const result light = run(false, 300 * second);
  std::printf("simulated 3-node raft cluster, 1%% drops, one node isolated 2 s of every 10 s\n");
  std::printf("  (a) light, 10 commands per simulated s: %.0f simulated s in %.2f wall s = %.0fx real time"
              " (%llu commands applied)\n",
              light.simulated_s, light.wall_s, light.simulated_s / light.wall_s,
              static_cast<unsigned long long>(light.commands));
  const result busy = run(true, 60 * second);
  std::printf("  (b) saturating, 32 clients back to back: %llu commands in %.2f wall s = %.0f k commands/s,"
              " %.2f M deliveries/s\n",
              static_cast<unsigned long long>(busy.commands), busy.wall_s, busy.commands / busy.wall_s / 1e3,
              busy.deliveries / busy.wall_s / 1e6);
}
