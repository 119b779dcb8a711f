// The checker's figures against Porcupine's (same machine class, README of
// tests/data/porcupine): every asserted Jepsen file, kv/c50-ok split by key,
// kv/c10-ok unsplit, and a simulator-style history of 100 000 operations over
// 64 keys from 32 clients with >= 5% info operations, as is and with one read
// poisoned — for generator seed 2026, and summed up over seeds 1-8 (the
// worst seed's time, each the best of two runs). Times include parsing; each
// is the best of several runs.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "check/linearizability/checker.hpp"
#include "check/history/parse.hpp"
#include "check/testing/synthetic_history.hpp"

namespace {

using namespace dkv::check;
using stopwatch = std::chrono::steady_clock;  // the benchmark's own timing, outside any simulation

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

verdict check_text(const std::string& text, bool split) {
  history h;
  parse_error error;
  if (!parse_history(text, h, error)) return verdict::unknown;
  check_options options;
  options.split = split;
  return check_history(h, options).result;
}

double best_seconds(int runs, const std::function<void()>& fn) {
  double best = 1e9;
  for (int i = 0; i < runs; ++i) {
    const auto start = stopwatch::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(stopwatch::now() - start).count());
  }
  return best;
}

const char* name(verdict v) {
  return v == verdict::linearizable ? "linearizable" : v == verdict::not_linearizable ? "not linearizable" : "unknown";
}

}  // namespace

int main() {
  const std::string dir = DKV_TESTDATA;
  std::vector<std::string> jepsen;
  {
    std::istringstream list(read(dir + "/VERDICTS"));
    for (std::string line; std::getline(list, line);)
      if (line.rfind("jepsen/", 0) == 0 && line.find("etcd_095") == std::string::npos)  // 095: empty, not asserted
        jepsen.push_back(read(dir + "/" + line.substr(0, line.find(' '))));
  }
  const double all_jepsen = best_seconds(5, [&] {
    for (const auto& text : jepsen) check_text(text, true);
  });
  std::printf("checker vs Porcupine (target: 3x faster)\n");
  std::printf("  %zu asserted jepsen/ files      %7.1f ms   (Porcupine 520 ms, target <= 170 ms)\n", jepsen.size(),
              all_jepsen * 1e3);

  const std::string c50 = read(dir + "/kv/c50-ok.txt");
  verdict v50{};
  const double c50_split = best_seconds(5, [&] { v50 = check_text(c50, true); });
  std::printf("  kv/c50-ok.txt split by key      %7.1f ms   (Porcupine 194 ms, target <= 65 ms): %s\n", c50_split * 1e3,
              name(v50));

  const std::string c10 = read(dir + "/kv/c10-ok.txt");
  verdict v10{};
  const double c10_whole = best_seconds(3, [&] { v10 = check_text(c10, false); });
  std::printf("  kv/c10-ok.txt unsplit           %7.1f ms   (Porcupine 2700-4600 ms, target <= 900 ms): %s\n",
              c10_whole * 1e3, name(v10));

  dkv::test::synthetic_options o;
  o.operations = 100'000;
  o.slots = 32;
  o.keys = 64;
  o.info = 0.06;
  o.seed = 2026;
  history h = dkv::test::synthetic_history(o);
  std::size_t infos = 0;
  for (const auto& op : h.operations) infos += op.result == outcome::info;
  check_report ok_report, bad_report;
  const double sim_ok = best_seconds(3, [&] { ok_report = check_history(h, {}); });
  dkv::test::poison_read(h, 7);
  const double sim_bad = best_seconds(3, [&] { bad_report = check_history(h, {}); });
  std::printf("  simulator-style history: %zu ops, 64 keys, 32 clients, %.1f%% info (target <= 2000 ms each)\n",
              h.operations.size(), 100.0 * static_cast<double>(infos) / static_cast<double>(h.operations.size()));
  std::printf("    as recorded                   %7.1f ms: %s\n", sim_ok * 1e3, name(ok_report.result));
  std::printf("    one read poisoned             %7.1f ms: %s\n", sim_bad * 1e3, name(bad_report.result));

  // Other seeds: the same shape, other arrangements of info writes and gaps.
  int ok_count = 0, bad_count = 0;
  double worst_ok = 0, worst_bad = 0;
  std::uint64_t worst_seed = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    o.seed = seed;
    history other = dkv::test::synthetic_history(o);
    verdict v{};
    const double t = best_seconds(2, [&] { v = check_history(other, {}).result; });
    ok_count += v == verdict::linearizable;
    if (t > worst_ok) worst_ok = t, worst_seed = seed;
    dkv::test::poison_read(other, 7);
    const double b = best_seconds(2, [&] { v = check_history(other, {}).result; });
    bad_count += v == verdict::not_linearizable;
    worst_bad = std::max(worst_bad, b);
  }
  std::printf("  seeds 1-8: %d linearizable, worst %.2f s (seed %llu); poisoned: %d not linearizable, worst %.0f ms\n",
              ok_count, worst_ok, static_cast<unsigned long long>(worst_seed), bad_count, worst_bad * 1e3);
}
