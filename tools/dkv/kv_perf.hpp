#pragma once
// `dkv kv perf`: dKV's benchmark of a server — set, set-large, get, delete,
// has, has-not and mixed, each for a fixed time from --threads threads over
// one network client — printing ns/op, ops/s and latency percentiles per
// benchmark (and a CSV with --csv).

namespace CLI {
class App;
}

namespace dkv::tools {

struct client_flags;

void add_kv_perf_command(CLI::App& kv, const client_flags& flags, int& exit_code);

}  // namespace dkv::tools
