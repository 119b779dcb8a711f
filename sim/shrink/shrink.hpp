#pragma once
// Shrinking a failing run to a small case that fails the same way.
//
// The failing run is replayed once recording what it did — every client
// call and every fault, as a fixed run (fixed_run) that does exactly the
// same. Then, each candidate checked by simulating it again, and kept only if
// the same check still fails (the first that failed, or a check of safety
// that failed with it: check_to_keep):
//
//   1. the network's and disks' random faults off, one at a time; a short
//      settle; snapshots more frequent, halving while the run still fails;
//   2. the run cut short: everything after a time found by bisection
//      dropped; when the scenario strikes faults at protocol steps (a vote,
//      a win) and at most 20 struck before the cut, delta debugging over
//      which of them strike, in the random run, the rest striking at the
//      steps the run then takes (fault_options::only_step_faults); then
//      only the calls of the last moments before the cut (a window
//      doubling from 50 ms), only the calls on the key a linearizability
//      failure names, and each client's calls dropped as a whole;
//   3. delta debugging (Zeller's ddmin, by complements) over the faults, then
//      the fewest entries between snapshots that still fails (1, 2, 4...:
//      with few calls left, a snapshot bug needs a snapshot of few
//      entries), then over the calls, again until none of them shrinks;
//   4. the run's duration brought down to just after its last fault;
//   5. while the case has more than five faults: the original random run
//      from the next seeds, shorter and calmer as steps 1 and 2 made it
//      (every other one with one kind of random fault off, in turn), each
//      cut short where it fails; one with fewer faults has its step
//      faults reduced as in step 2, is reduced by steps 2 to 4 and kept if
//      it ends smaller (fewer faults, then fewer calls), until
//      `other_seeds` seeds in a row found nothing smaller. A failure that
//      needs a chain of faults (each leader falls as it wins, and the next
//      election follows from it) is shrunk this way: remove any one fault
//      and every later election goes another way. A cut run of over 20
//      faults is searched so (an eighth of the patience) already before
//      step 2 goes on, as delta debugging would spend its time on it one
//      fault at a time.
//
// No clock is read here: the caller's `out_of_time` decides when to stop,
// and then the smallest failing case found so far is the answer.

#include <cstdint>
#include <functional>
#include <string>

#include "sim/run/random_run.hpp"

namespace dkv::sim {

struct shrink_options {
  std::function<bool()> out_of_time = [] { return false; };
  std::function<void(const std::string&)> log;  // a line per kept step (may be empty)
  std::uint64_t other_seeds = 4000;             // step 5 ends this many seeds after its last smaller case
};

struct shrink_result {
  bool failed = false;      // the run failed at all (else nothing to shrink)
  std::string check;        // the check that fails, in the original and the reduced run
  bool reproduced = false;  // the recorded fixed run had the original's trace hash
  bool complete = false;    // a fixpoint was reached before out_of_time
  std::size_t runs = 0;     // simulations done
  std::size_t original_calls = 0, original_faults = 0;
  run_options reduced;  // a fixed run that fails `check`
  std::size_t calls() const noexcept { return reduced.workload.script.size(); }
  std::size_t faults() const noexcept { return reduced.schedule.size(); }
};

shrink_result shrink(const run_options& failing, const shrink_options& options = {});

}  // namespace dkv::sim
