// dkv: the command-line tool. `serve` runs a server; `kv` and `lock` talk to
// one (dKV's commands and flags), `status` asks servers how a shard is;
// `perf` exercises a local store in-process.

#include <CLI/CLI.hpp>

#include "tools/dkv/kv_command.hpp"
#include "tools/dkv/perf_command.hpp"
#include "tools/dkv/serve_command.hpp"
#include "tools/dkv/status_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dkv: a key-value store with dKV's semantics"};
  app.require_subcommand(1);
  int exit_code = 0;
  dkv::tools::add_serve_command(app, exit_code);
  dkv::tools::add_kv_command(app, exit_code);
  dkv::tools::add_lock_command(app, exit_code);
  dkv::tools::add_status_command(app, exit_code);
  dkv::tools::perf_options perf;
  dkv::tools::add_perf_command(app, perf, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;  // bad usage
  }
  return exit_code;
}
