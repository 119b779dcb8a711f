// dkv-sim: runs dstore's actors in the deterministic simulator.
//
//   dkv-sim run [--seed N] [--time 60s] [--history FILE] [--nodes 3] [--clients 4]
//               [--drop P] [--duplicate P] [--sync-failure P] [--max-sessions N] [--max-pending N]
//               [--no-faults] [--broken-skip-sync]
//
// One run: the cluster, a random workload and random faults for that much
// virtual time, then the end-of-run checks. Prints the trace hash (the same
// seed gives the same hash in any process), the operations by outcome, the
// faults by kind and each check's verdict. Exit code: 0 when every check
// passes, 1 when one fails, 2 on bad usage.

#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>

#include "sim/run/random_run.hpp"

namespace {

// "60s", "500ms", "2m", "1500000ns" or plain seconds, as virtual nanoseconds.
bool parse_duration(const std::string& text, std::uint64_t& ns) {
  std::uint64_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc() || end == text.data()) return false;
  const std::string unit(end, text.data() + text.size());
  const std::uint64_t scale = unit == "ns"  ? 1
                              : unit == "us" ? 1'000
                              : unit == "ms" ? 1'000'000
                              : unit == "s" || unit.empty() ? 1'000'000'000
                              : unit == "m"  ? 60'000'000'000
                                             : 0;
  if (scale == 0 || amount > UINT64_MAX / scale) return false;
  ns = amount * scale;
  return ns > 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dkv-sim: dstore's actors in the deterministic simulator"};
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "One simulated run with a random workload and random faults, then checks");
  dkv::sim::run_options options;
  std::string time_text = "60s";
  std::string history_path;
  bool no_faults = false;
  run->add_option("--seed", options.seed, "The master seed (default 1)");
  run->add_option("--time", time_text, "Virtual time of workload and faults: 60s, 500ms, 2m (default 60s)")
      ->check([](const std::string& t) {
        std::uint64_t ns;
        return parse_duration(t, ns) ? std::string() : "not a duration: " + t;
      });
  run->add_option("--history", history_path, "Write the history (HISTORY.md's JSON lines) to FILE");
  run->add_option("--nodes", options.nodes, "Cluster size (default 3)")->check(CLI::Range(1, 9));
  run->add_option("--clients", options.workload.clients, "Concurrent clients (default 4)")->check(CLI::Range(1, 256));
  run->add_option("--drop", options.network.drop, "Probability that the network drops a message (default 0.01)")
      ->check(CLI::Range(0.0, 0.5));
  run->add_option("--duplicate", options.network.duplicate, "Probability that it duplicates one (default 0.005)")
      ->check(CLI::Range(0.0, 0.5));
  run->add_option("--sync-failure", options.disk.sync_failure, "Probability that an fsync fails (default 1e-5)")
      ->check(CLI::Range(0.0, 0.01));
  run->add_option("--max-sessions", options.node.machine.sessions.max_sessions, "Client sessions a node keeps (default 4096)")
      ->check(CLI::Range(1, 1 << 20));
  run->add_option("--max-pending", options.node.max_pending, "Requests a node holds awaiting an answer (default 1024)")
      ->check(CLI::Range(1, 1 << 20));
  run->add_flag("--no-faults", no_faults, "A calm run: no partitions, crashes, drops or disk faults");
  run->add_flag("--broken-skip-sync", options.broken_skip_sync,
                "Run deliberately broken nodes that acknowledge log entries before they are durable");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  parse_duration(time_text, options.time_ns);
  options.faults = !no_faults;

  std::ofstream history;
  if (!history_path.empty()) {
    history.open(history_path, std::ios::binary | std::ios::trunc);
    if (!history) {
      std::cerr << "dkv-sim: cannot write " << history_path << "\n";
      return 2;
    }
    options.history = &history;
  }
  std::cout << "dkv-sim run: seed " << options.seed << ", " << time_text << " of virtual time, " << options.nodes
            << " nodes, " << options.workload.clients << " clients, " << (options.faults ? "random faults" : "no faults")
            << "\n";
  const auto started = std::chrono::steady_clock::now();  // wall time only for the summary; the run never sees it
  const dkv::sim::run_report report = dkv::sim::run_random(options);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  dkv::sim::print_report(report, std::cout);
  std::cout << "wall time " << wall << " s (" << static_cast<double>(report.virtual_ns) / 1e9 / wall
            << "x real time)\n";
  if (history.is_open()) {
    history.flush();
    if (!history) {
      std::cerr << "dkv-sim: writing " << history_path << " failed\n";
      return 2;
    }
  }
  return report.passed() ? 0 : 1;
}
