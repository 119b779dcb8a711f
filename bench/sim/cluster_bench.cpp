// The simulated dstore cluster at work, driven through the real client
// actors (sim_client: a caller actor in front of an actors::client on the
// simulated network): three raft_node actors on the simulated network and
// disks, 1% drops, one node isolated for 2 s every simulated 10 s.
//
//   (a) light: 10 client operations per simulated second (one client, one
//       operation submitted every 100 ms whether or not the last one was
//       answered) plus the heartbeats: simulated seconds per wall second;
//   (b) saturating: 32 clients back to back (each one operation in flight,
//       the next one submitted from the previous one's answer): client
//       operations per wall second, trace events and network deliveries per
//       wall second.
//
// The operations are the workload's plain mix (sim/run/workload.cpp, without
// the locks) over 16 keys: about 40% reads, 60% writes through sessions.
//
// Targets (the issue, 2-core machine): (a) >= 1000x real time, (b) >= 100 k
// client operations per wall second. Trace events are deliveries and faults.
//
//   dkv-sim-cluster-bench [--seed N] [--light SECONDS] [--busy SECONDS] [--clients N]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "actors/messages.hpp"
#include "sim/cluster/sim_client.hpp"
#include "sim/cluster/sim_cluster.hpp"
#include "store/error.hpp"
#include "store/rng.hpp"

namespace {

using namespace dkv;
using clock_type = std::chrono::steady_clock;  // the benchmark's stopwatch, outside the simulation
constexpr std::uint64_t second = 1'000'000'000;
constexpr std::uint64_t driver_stream = 0x62656e6368;  // "bench"
constexpr std::size_t keys = 16;

// The plain operations of sim/run/workload.cpp, by the same weights.
constexpr struct {
  operation_kind op;
  unsigned weight;
} mix[] = {
    {operation_kind::get, 25},           {operation_kind::has, 6},
    {operation_kind::set, 16},           {operation_kind::set_e, 10},
    {operation_kind::set_e_if_unset, 6}, {operation_kind::expire, 5},
    {operation_kind::remove, 5},         {operation_kind::remove_if_value, 7},
};

struct counts {
  std::uint64_t issued = 0, ok = 0, refused = 0, unknown = 0;  // unknown: timeout / internal error
  std::uint64_t answered() const { return ok + refused + unknown; }
};

// The clients and what they submit. Closed loop: each answer submits the
// client's next operation (until stop_ns). Open loop: submit() is called by
// scheduled actions.
class driver {
 public:
  driver(sim::sim_cluster& cluster, std::size_t clients, bool closed_loop, std::uint64_t stop_ns)
      : cluster_(cluster), random_(cluster.sim().derive(driver_stream)), closed_loop_(closed_loop), stop_ns_(stop_ns) {
    for (std::size_t i = 0; i < clients; ++i) clients_.push_back(std::make_unique<sim::sim_client>(cluster_));
  }

  void submit(std::size_t index) {
    ++counts_.issued;
    clients_[index]->submit(next_call(index), [this, index](const actors::store_answer& answer) {
      switch (static_cast<error_code>(answer.code)) {
        case error_code::success: ++counts_.ok; break;
        case error_code::unsupported_operation:
        case error_code::invalid_operation:
        case error_code::unavailable: ++counts_.refused; break;
        default: ++counts_.unknown;
      }
      if (closed_loop_ && cluster_.sim().now_ns() < stop_ns_) submit(index);
    });
  }

  std::size_t clients() const { return clients_.size(); }
  const counts& totals() const { return counts_; }

 private:
  actors::store_call next_call(std::size_t index) {
    unsigned total = 0;
    for (const auto& m : mix) total += m.weight;
    auto roll = static_cast<unsigned>(random_.below(total));
    std::size_t chosen = 0;
    while (roll >= mix[chosen].weight) roll -= mix[chosen++].weight;
    actors::store_call call;
    call.op = static_cast<std::uint8_t>(mix[chosen].op);
    call.key = fmt::format("k{}", random_.below(keys));
    switch (mix[chosen].op) {
      case operation_kind::set_e:
      case operation_kind::set_e_if_unset:
        call.expire_in = random_.below(13);
        call.delete_in = random_.below(13);
        [[fallthrough]];
      case operation_kind::set: call.value = fmt::format("v{}.{}", index, counts_.issued); break;
      case operation_kind::remove_if_value:
        call.value = fmt::format("v{}.{}", random_.below(clients_.size()), random_.below(counts_.issued + 1));
        break;
      default: break;
    }
    return call;
  }

  sim::sim_cluster& cluster_;
  dkv::rng random_;
  bool closed_loop_;
  std::uint64_t stop_ns_;
  std::vector<std::unique_ptr<sim::sim_client>> clients_;
  counts counts_;
};

// The process's CPU time: on a shared machine, wall time also counts other people's work.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct result {
  double simulated_s = 0, wall_s = 0, cpu_s = 0;
  counts ops;
  std::uint64_t events = 0, deliveries = 0, steps = 0, timers = 0, hash = 0;
};

result run(std::uint64_t seed, bool saturating, std::uint64_t simulated_ns, std::size_t clients) {
  sim::sim_cluster cluster(seed);
  sim::simulator& s = cluster.sim();
  s.network().set_faults({.min_latency_ns = 200'000, .max_latency_ns = 2'000'000, .drop = 0.01});
  for (std::uint64_t t = 10 * second; t < simulated_ns; t += 10 * second) {
    const sim::node_id victim = static_cast<sim::node_id>(1 + t / (10 * second) % 3);
    s.at(t, "isolate " + std::to_string(victim), [&cluster, victim] { cluster.cuts().isolate(victim, {1, 2, 3}); });
    s.at(t + 2 * second, "heal", [&cluster] { cluster.cuts().heal(); });
  }
  // Operations stop a little before the end: the last ones are answered
  // within the run (an unanswered call is bounded by the client's deadline).
  const std::uint64_t stop_ns = simulated_ns > 2 * second ? simulated_ns - second : simulated_ns;
  driver d(cluster, saturating ? clients : 1, saturating, stop_ns);
  if (saturating) {
    s.at(second, "start", [&d] {
      for (std::size_t i = 0; i < d.clients(); ++i) d.submit(i);
    });
  } else {
    for (std::uint64_t t = second; t < stop_ns; t += 100'000'000) s.at(t, "submit", [&d] { d.submit(0); });
  }
  result r;
  const std::uint64_t steps_before = s.steps(), timers_before = s.timers_fired();
  const auto start = clock_type::now();
  const double cpu_start = cpu_seconds();
  s.run_until(simulated_ns);
  const double wall = std::chrono::duration<double>(clock_type::now() - start).count();
  r.cpu_s = cpu_seconds() - cpu_start;
  r.simulated_s = static_cast<double>(simulated_ns) / 1e9;
  r.wall_s = wall;
  r.ops = d.totals();
  r.events = s.trace().events();
  r.deliveries = s.network().stats().delivered;
  r.steps = s.steps() - steps_before;
  r.timers = s.timers_fired() - timers_before;
  r.hash = s.trace().value();
  return r;
}

std::uint64_t arg(int argc, char** argv, const char* name, std::uint64_t otherwise) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  return otherwise;
}

void print_ops(const result& r) {
  const double answered = static_cast<double>(r.ops.answered());
  std::printf("      operations: %llu issued, %llu answered: %.1f%% ok, %.1f%% refused, %.1f%% unknown (timeout)\n",
              static_cast<unsigned long long>(r.ops.issued), static_cast<unsigned long long>(r.ops.answered()),
              answered ? 100.0 * r.ops.ok / answered : 0.0, answered ? 100.0 * r.ops.refused / answered : 0.0,
              answered ? 100.0 * r.ops.unknown / answered : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t seed = arg(argc, argv, "--seed", 1);
  const std::uint64_t light_s = arg(argc, argv, "--light", 300);
  const std::uint64_t busy_s = arg(argc, argv, "--busy", 60);
  const std::size_t clients = arg(argc, argv, "--clients", 32);
  std::printf(
      "simulated 3-node dstore cluster (raft_node + client actors), seed %llu, 1%% drops,"
      " one node isolated 2 s of every 10 s\n",
      static_cast<unsigned long long>(seed));
  if (light_s > 0) {
    const result light = run(seed, false, light_s * second, 1);
    std::printf(
        "  (a) light, 10 client operations per simulated s: %.0f simulated s in %.3f wall s = %.0fx real time"
        " (CPU %.3f s: %.0fx)\n",
        light.simulated_s, light.wall_s, light.simulated_s / light.wall_s, light.cpu_s,
        light.simulated_s / light.cpu_s);
    print_ops(light);
    std::printf("      per simulated s: %.0f timers fired, %.0f deliveries, %.0f scheduler steps; trace %016llx\n",
                light.timers / light.simulated_s, light.deliveries / light.simulated_s, light.steps / light.simulated_s,
                static_cast<unsigned long long>(light.hash));
  }
  if (busy_s > 0) {
    const result busy = run(seed, true, busy_s * second, clients);
    std::printf(
        "  (b) saturating, %zu clients back to back, %.0f simulated s in %.2f wall s (CPU %.2f s: %.1f k"
        " operations per CPU s):\n",
        clients, busy.simulated_s, busy.wall_s, busy.cpu_s, busy.ops.answered() / busy.cpu_s / 1e3);
    std::printf(
        "      %.1f k client operations answered per wall s (%.1f k ok), %.2f M trace events and"
        " %.2f M deliveries per wall s\n",
        busy.ops.answered() / busy.wall_s / 1e3, busy.ops.ok / busy.wall_s / 1e3, busy.events / busy.wall_s / 1e6,
        busy.deliveries / busy.wall_s / 1e6);
    print_ops(busy);
    std::printf(
        "      per client operation: %.1f deliveries, %.1f scheduler steps, %.2f timers fired;"
        " %.0f operations per simulated s; trace %016llx\n",
        static_cast<double>(busy.deliveries) / busy.ops.answered(),
        static_cast<double>(busy.steps) / busy.ops.answered(), static_cast<double>(busy.timers) / busy.ops.answered(),
        busy.ops.answered() / busy.simulated_s, static_cast<unsigned long long>(busy.hash));
  }
}
