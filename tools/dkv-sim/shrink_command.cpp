// dkv-sim shrink: a failing run reduced to the fewest calls and faults that
// still fail the same check, printed as a scenario file that `run` accepts.

#include <fstream>
#include <iostream>

#include "sim/shrink/shrink.hpp"
#include "tools/dkv-sim/commands.hpp"

namespace dkv::sim::tool {

int shrink_command(const run_arguments& spec, double budget_s, const std::string& out_path) {
  prepared_run run = prepare(spec);
  print_header(run, std::cout);
  const auto started = wall_clock::now();
  shrink_options options;
  options.out_of_time = [&] { return seconds_since(started) > budget_s; };
  options.log = [&](const std::string& line) {
    std::cout << fmt_seconds(seconds_since(started)) << "  " << line << "\n" << std::flush;
  };
  const shrink_result r = shrink(run.options, options);
  if (!r.failed) {
    std::cout << "shrink: the run passes every check: nothing to shrink\n";
    return 0;
  }
  std::cout << "shrink: " << r.check << " fails; " << r.original_calls << " calls and " << r.original_faults
            << " faults became " << r.calls() << " calls and " << r.faults() << " faults in " << r.runs << " runs, "
            << fmt_seconds(seconds_since(started)) << (r.complete ? "" : " (budget spent: not minimal)")
            << (r.reproduced ? "" : "; note: the recorded run's trace differed from the original's") << "\n";
  const std::string intent = "Shrunk from " + command_for("run", spec, run.options.seed) + ": it fails " + r.check +
                             " with " + std::to_string(r.calls()) + " client calls and " + std::to_string(r.faults()) +
                             " faults.";
  const std::string text = to_toml(r.reduced, intent);
  if (out_path.empty()) {
    std::cout << "\n" << text;
  } else {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    if (!(out << text && out.flush())) throw usage_error("cannot write " + out_path);
    std::cout << "written to " << out_path << "; run it: dkv-sim run " << out_path << "\n";
  }
  return 1;
}

}  // namespace dkv::sim::tool
