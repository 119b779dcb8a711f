#pragma once
// `dkv perf`: drives a local store (lstore) with a seeded mixed workload from
// several threads and prints throughput, latency percentiles and store figures.

#include <cstdint>

namespace CLI {
class App;
}

namespace dkv::tools {

struct perf_options {
  std::uint64_t keys = 100'000;
  std::uint64_t operations = 2'000'000;
  unsigned threads = 2;
  std::uint64_t value_bytes = 128;
  std::uint64_t seed = 1;
};

void add_perf_command(CLI::App& app, perf_options& options, int& exit_code);
int run_perf(const perf_options& options);

}  // namespace dkv::tools
