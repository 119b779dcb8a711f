#pragma once
// Fault scenarios as data (scenarios/README.md describes the format): a TOML
// file names the run's settings — cluster size and Raft timings, the
// workload, the network and the disks, random faults and a timed schedule,
// the liveness phase, the checks, injected bugs. A numeric or boolean
// setting written as a pair `[low, high]` is drawn anew for every seed
// (swarm testing, as TigerBeetle's VOPR draws its fault parameters), so one
// file describes a whole family of runs; `instantiate` turns it and a seed
// into one run's options.
//
// A file with a key it does not know, a value of the wrong type or out of
// range is refused with an error naming the file, line and key.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sim/run/random_run.hpp"

namespace dkv::sim {

class scenario_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One setting of a file: which field, and the range its value is drawn from
// (low == high: fixed).
struct setting {
  std::size_t field = 0;  // index into the field table (scenario.cpp)
  double low = 0, high = 0;
};

struct scenario {
  std::string path;                     // as given
  std::string name;                     // the file's stem
  std::string intent;                   // the comment paragraph at the top of the file
  std::optional<std::uint64_t> seed;    // `seed = N`: the run's seed when none is given
  std::vector<setting> settings;        // in the field table's order (the order of drawing)
  std::vector<planned_fault> schedule;  // [[faults.at]]
  std::vector<scripted_call> script;    // [[workload.call]]: a scripted workload
  dkv::bugs::bug_set bugs = 0;          // bugs = ["…"]
};

// Throws scenario_error ("FILE:LINE:COL: KEY: what is wrong", or "FILE: …"),
// also for a file that is no scenario at all: a directory, a file that cannot
// be opened, an empty or blank one (check/input_file.hpp).
scenario load_scenario(const std::string& path);
scenario parse_scenario(std::string_view text, const std::string& path);

// The options of the run `seed` of this scenario: the defaults, then every
// setting, a ranged one drawn from a stream of the seed (so a seed always
// draws the same values).
run_options instantiate(const scenario& s, std::uint64_t seed);

// What a run's options name that does not exist: a fault's node beyond the
// cluster, a split's side as large as the cluster, a scripted call's client
// beyond the clients (after flags changed the sizes). Empty when all fits.
std::string misfit(const run_options& options);

// "key = value" for each setting `instantiate` drew for these options.
std::vector<std::string> drawn_settings(const scenario& s, const run_options& options);

// A scenario file that runs exactly `options` (every setting fixed, the
// schedule and script written out, random faults as the options have them):
// what the shrinker prints. `intent` becomes its top comment.
std::string to_toml(const run_options& options, std::string_view intent);

}  // namespace dkv::sim
