// dkv: the command-line tool. Subcommands grow with the project (serve, kv,
// lock come with the networked store); `perf` exercises a local store.

#include <CLI/CLI.hpp>

#include "tools/dkv/perf_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dkv: a key-value store with dKV's semantics"};
  app.require_subcommand(1);
  int exit_code = 0;
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
