#include "sim/shrink/shrink.hpp"

#include <algorithm>
#include <functional>
#include <numeric>

#include "sim/scenario/duration.hpp"

namespace dkv::sim {

namespace {

class shrinker {
 public:
  shrinker(const shrink_options& options, shrink_result& result) : options_(options), result_(result) {}

  void run(const run_options& failing) {
    run_options recording = failing;
    recording.record_script = true;
    recording.history = nullptr;
    recording.progress = nullptr;
    const run_report first = simulate(recording);
    const check_result* failed = first.first_failure();
    if (!failed) return;
    result_.failed = true;
    result_.check = check_to_keep(first);
    key_ = failure_of(first)->key;
    result_.original_calls = first.script.size();
    result_.original_faults = first.schedule.size();
    best_ = fixed_run(recording, first);
    const run_report fixed = simulate(best_);
    result_.reproduced = fixed.trace_hash == first.trace_hash;
    if (!still_fails(fixed)) {
      // The recorded run does not fail as the original did: report the original as it is.
      result_.reduced = best_;
      return;
    }
    say("recorded " + std::to_string(result_.original_calls) + " calls and " + std::to_string(result_.original_faults) +
        " faults; " + result_.check + " fails");

    calm_the_rest();
    cut_short(true);
    fewer_step_faults(recording);
    if (best_.schedule.size() > many_faults) search_other_seeds(recording, options_.other_seeds / 8, false);
    reduce();
    search_other_seeds(recording, options_.other_seeds, true);
    result_.complete = !stopped();
    result_.reduced = best_;
  }

 private:
  // Steps 2 (after the cut) to 4, on best_.
  void reduce() {
    keep_the_end();
    keep_the_key();
    drop_clients();
    for (bool shrank = true; shrank && !stopped();) {
      const std::size_t before = best_.schedule.size() + best_.workload.script.size();
      shrink_list(faults_of, "faults");
      const bool sooner = snapshot_sooner();
      shrink_list(calls_of, "calls");
      shrank = sooner || best_.schedule.size() + best_.workload.script.size() < before;
    }
    shorten();
  }

  // The least number of entries between snapshots that still fails (from
  // 1, doubling): a snapshot bug then needs only as many writes as the
  // snapshot must hold, where the interval step 1 left needed that many
  // writes to reach a snapshot at all. Tried again once calls are fewer,
  // as a busy run may hide the bug under snapshots at every entry.
  bool snapshot_sooner() {
    for (std::uint64_t every = 1; every < best_.node.snapshot_every && !stopped(); every *= 2) {
      run_options c = best_;
      c.node.snapshot_every = every;
      if (try_candidate(c)) {
        say("kept: a snapshot every " + std::to_string(every) + " entries");
        return true;
      }
    }
    return false;
  }

  // Fewer faults first, then fewer calls.
  static bool smaller(const run_options& a, const run_options& b) {
    const auto size = [](const run_options& o) { return std::pair(o.schedule.size(), o.workload.script.size()); };
    return size(a) < size(b);
  }

  // Step 5. Some failures need a chain of faults, each leading to the next
  // (a leader falls as it wins, another wins and falls...): remove one and
  // every later election goes another way, so no reduction of this run's
  // schedule fails. A shorter chain is found by search instead: the
  // original random run from the next seeds, with what steps 1 and 2 kept
  // (its calm network and disks, its shorter duration), cut short where it
  // fails. One with fewer faults than the best so far is reduced in turn
  // (`reduce_each`), and kept if it ends smaller; each smaller case
  // shortens the runs that follow. The search ends `patience` seeds after
  // the last smaller case, or once the case has at most `few_faults`.
  //
  // A long chain is searched before delta debugging too (without
  // `reduce_each`, comparing cut runs), which would spend its time on it
  // one fault at a time.
  void search_other_seeds(const run_options& random, std::uint64_t patience, bool reduce_each) {
    for (std::uint64_t since_smaller = 0;
         since_smaller < patience && !stopped() && best_.schedule.size() > few_faults;) {
      run_options candidate = like_best(random);
      candidate.seed = random.seed + ++seeds_tried_;  // the second search goes on from the first
      calmer_plan(candidate.random_plan, seeds_tried_);
      const run_report found = simulate(candidate);
      const run_options before = best_;
      const std::string key_before = key_;
      // Its recording must fail too, as the first run's did (step 1).
      if (still_fails(found) && try_candidate(fixed_run(candidate, found))) {
        key_ = failure_of(found)->key;
        cut_short(false);  // its faults after the failure do not count
        if (best_.schedule.size() < before.schedule.size()) {
          say("seed " + std::to_string(candidate.seed) + " fails with " + std::to_string(best_.schedule.size()) +
              " faults before " + format_duration(best_.time_ns));
          fewer_step_faults(candidate);
          if (reduce_each) reduce();
        }
      }
      if (smaller(best_, before)) {
        since_smaller = 0;
      } else {
        best_ = before;
        key_ = key_before;
        ++since_smaller;
      }
    }
  }

  // Step 2b. Faults struck at a protocol step (a leader cut off or crashed
  // as it wins, a voter crashed as its vote leaves) form chains: each
  // leads to the next election. Dropped from the recorded schedule, one
  // takes its successors' elections with it, and they strike at nothing.
  // Dropped from the random run instead (fault_options::only_step_faults),
  // the rest strike at the steps the run then takes: delta debugging over
  // which of them strike, in the random run `random` with what steps 1 and
  // 2 kept. Its result is recorded and kept if smaller.
  void fewer_step_faults(const run_options& random) {
    if (!random.random_faults || !random.random_plan.strikes_at_steps() || stopped()) return;
    run_options r = like_best(random);
    r.record_script = true;
    const run_report all = simulate(r);
    // Over a long chain, delta debugging finds little: each step fault it
    // drops moves all the later ones, and the failure seldom survives that.
    if (!still_fails(all) || all.step_faults > many_faults) return;
    std::vector<std::size_t> kept(all.step_faults);
    std::iota(kept.begin(), kept.end(), std::size_t{0});
    run_report failing = all;
    ddmin(kept, [&](const std::vector<std::size_t>& fewer) {
      r.random_plan.only_step_faults = fewer;
      run_report found = simulate(r);
      if (!still_fails(found)) return false;
      kept = fewer;
      failing = std::move(found);
      return true;
    });
    r.random_plan.only_step_faults = kept;
    const run_options before = best_;
    if (try_candidate(fixed_run(r, failing)) && smaller(best_, before)) {
      key_ = failure_of(failing)->key;
      say("kept: " + std::to_string(kept.size()) + " of " + std::to_string(all.step_faults) +
          " faults struck at a step, " + std::to_string(best_.schedule.size()) + " faults in all");
    } else {
      best_ = before;
    }
  }

  // A random run as calm and as short as steps 1 and 2 made the case.
  run_options like_best(run_options random) const {
    random.time_ns = best_.time_ns;
    random.settle_ns = best_.settle_ns;
    random.network = best_.network;
    random.disk = best_.disk;
    random.node.snapshot_every = best_.node.snapshot_every;
    return random;
  }

  // Every other seed, one kind of random fault fewer, in turn: a chain may
  // not need all the kinds the scenario draws (crashes after a vote among
  // leaders that fall as they win), and one drawn without it is shorter.
  static void calmer_plan(fault_options& plan, std::uint64_t n) {
    std::vector<std::function<void()>> calmer;
    const auto off = [&calmer](auto& knob) {
      if (knob > 0) calmer.push_back([&knob] { knob = 0; });
    };
    off(plan.crash_after_vote);
    off(plan.isolate_after_winning);
    off(plan.crash_after_winning);
    fault_weights& w = plan.weights;
    for (unsigned* weight : {&w.partition, &w.crash, &w.pause, &w.clock, &w.damage, &w.membership, &w.lose, &w.cut}) off(*weight);
    if (n % 2 == 0 && !calmer.empty()) calmer[(n / 2) % calmer.size()]();
  }

  run_report simulate(const run_options& o) {
    ++result_.runs;
    return run_random(o);
  }

  // The check a case must keep failing: the first that failed, unless a
  // check of safety failed too. A bug that breaks safety may leave the
  // cluster unable to serve as well (a write never answered after healing),
  // but the broken safety is what it did, and its check can be failed by a
  // run cut short, where liveness is judged only at the run's end.
  static std::string check_to_keep(const run_report& r) {
    const std::string& first = r.first_failure()->name;
    if (first == "work") return first;
    for (const check_result& c : r.checks)
      for (const char* safety : {"agreement", "convergence", "linearizability", "elections", "storage"})
        if (!c.passed && c.name == safety) return c.name;
    return first;
  }

  // That check, failed in `r` (a run past its budget of steps fails `work`
  // alone: what its other checks say is moot).
  const check_result* failure_of(const run_report& r) const {
    const check_result* first = r.first_failure();
    if (!first || (first->name == "work" && result_.check != "work")) return nullptr;
    for (const check_result& c : r.checks)
      if (!c.passed && c.name == result_.check) return &c;
    return nullptr;
  }

  bool still_fails(const run_report& r) const { return failure_of(r) != nullptr; }

  bool stopped() const { return options_.out_of_time(); }

  bool try_candidate(const run_options& candidate) {
    if (stopped()) return false;
    if (!still_fails(simulate(candidate))) return false;
    best_ = candidate;
    return true;
  }

  void say(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  void calm_the_rest() {
    const auto attempt = [&](const char* what, auto change) {
      run_options c = best_;
      change(c);
      if (try_candidate(c)) say(std::string("kept: ") + what);
    };
    if (best_.network.drop > 0) attempt("no drops", [](run_options& c) { c.network.drop = 0; });
    if (best_.network.duplicate > 0) attempt("no duplicates", [](run_options& c) { c.network.duplicate = 0; });
    if (best_.disk.sync_failure > 0) attempt("no fsync failures", [](run_options& c) { c.disk.sync_failure = 0; });
    if (best_.disk.read_corruption > 0)
      attempt("no corrupted reads", [](run_options& c) { c.disk.read_corruption = 0; });
    if (best_.settle_ns > second) attempt("a 1 s settle", [](run_options& c) { c.settle_ns = second; });
    // Frequent snapshots let fewer calls reach one (a bug in snapshots needs
    // one). Not at once to the least: when every node snapshots all the
    // time, the snapshot a lagging node installs may hold no more than its
    // own would, and a bug in installing them hides. So: halving, while it fails.
    for (std::uint64_t every = best_.node.snapshot_every / 2; every >= 10 && !stopped(); every /= 2) {
      run_options c = best_;
      c.node.snapshot_every = every;
      if (try_candidate(c)) say("kept: a snapshot every " + std::to_string(every) + " entries");
    }
  }

  // Everything from `t` on dropped; the faults stop there.
  static run_options cut_at(run_options o, std::uint64_t t) {
    std::erase_if(o.schedule, [t](const planned_fault& f) { return f.time_ns >= t; });
    std::erase_if(o.workload.script, [t](const scripted_call& c) { return c.at_ns >= t; });
    o.time_ns = std::max<std::uint64_t>(t, 1'000'000);
    return o;
  }

  // Only the calls of the last moments before the cut, in windows that double.
  void keep_the_end() {
    for (std::uint64_t window = 50'000'000; window < best_.time_ns && !stopped(); window *= 2) {
      run_options c = best_;
      const std::uint64_t from = best_.time_ns - window;
      std::erase_if(c.workload.script, [from](const scripted_call& call) { return call.at_ns < from; });
      if (c.workload.script.size() == best_.workload.script.size()) return;
      if (try_candidate(c)) {
        say("kept: the calls of the last " + format_duration(window) + ", " +
            std::to_string(best_.workload.script.size()));
        return;
      }
    }
  }

  // The calls on the key whose history cannot be ordered, alone.
  void keep_the_key() {
    if (key_.empty() || stopped()) return;
    run_options c = best_;
    std::erase_if(c.workload.script, [&](const scripted_call& call) { return call.call.key != key_; });
    if (c.workload.script.size() < best_.workload.script.size() && try_candidate(c))
      say("kept: only the calls on " + key_ + ", " + std::to_string(best_.workload.script.size()));
  }

  void drop_clients() {
    for (std::uint32_t client = 0; client < best_.workload.clients && !stopped(); ++client) {
      run_options c = best_;
      std::erase_if(c.workload.script, [&](const scripted_call& call) { return call.client == client; });
      if (c.workload.script.size() < best_.workload.script.size() && try_candidate(c))
        say("kept: no calls of client " + std::to_string(client) + ", " + std::to_string(best_.workload.script.size()));
    }
  }

  // Bisection for the earliest cut that still fails (to a simulated 100 ms).
  void cut_short(bool tell) {
    std::uint64_t low = 0, high = best_.time_ns;
    const run_options whole = best_;
    while (high - low > 100'000'000 && !stopped()) {
      const std::uint64_t middle = low + (high - low) / 2;
      if (try_candidate(cut_at(whole, middle)))
        high = middle;
      else
        low = middle;
    }
    if (tell && best_.time_ns < whole.time_ns) say("kept: cut at " + format_duration(best_.time_ns));
  }

  static std::vector<planned_fault>& faults_of(run_options& o) { return o.schedule; }
  static std::vector<scripted_call>& calls_of(run_options& o) { return o.workload.script; }

  // ddmin over one of best_'s lists.
  template <class T>
  void shrink_list(std::vector<T>& (*member)(run_options&), const char* what) {
    ddmin(member(best_), [&](const std::vector<T>& fewer) {
      run_options c = best_;
      member(c) = fewer;
      if (!try_candidate(c)) return false;
      say(fewer.empty() ? std::string("kept: no ") + what : "kept: " + std::to_string(fewer.size()) + " " + what);
      return true;
    });
  }

  // Zeller's ddmin by complements: the empty list first, then drop one of n
  // chunks at a time; on success keep going at the same granularity, else
  // split finer. `fails` is asked of a smaller list and, when true, has
  // made it the case (`list` is then updated through it or here).
  template <class T, class Fails>
  void ddmin(const std::vector<T>& list, Fails fails) {
    if (list.empty() || stopped() || fails(std::vector<T>{})) return;
    std::size_t n = 2;
    while (list.size() >= 2 && !stopped()) {
      const std::size_t size = list.size();
      n = std::min(n, size);
      bool removed = false;
      for (std::size_t chunk = 0; chunk < n && !removed; ++chunk) {
        std::vector<T> fewer = list;
        fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(size * chunk / n),
                    fewer.begin() + static_cast<std::ptrdiff_t>(size * (chunk + 1) / n));
        removed = fails(fewer);
      }
      if (removed)
        n = std::max<std::size_t>(n - 1, 2);
      else if (n >= size)
        break;
      else
        n = std::min(2 * n, size);
    }
    if (list.size() == 1 && !stopped()) fails(std::vector<T>{});
  }

  // Faults end just after the last one (at least a second of run).
  void shorten() {
    std::uint64_t last = 0;
    for (const planned_fault& f : best_.schedule) last = std::max(last, f.time_ns);
    for (const scripted_call& c : best_.workload.script) last = std::max(last, c.at_ns);
    const std::uint64_t t = std::max<std::uint64_t>(last + 100'000'000, 1'000'000'000);
    if (t < best_.time_ns && !stopped()) {
      run_options c = best_;
      c.time_ns = t;
      if (try_candidate(c)) say("kept: duration " + format_duration(t));
    }
  }

  const shrink_options& options_;
  shrink_result& result_;
  run_options best_;
  std::string key_;                // the failing key, for a linearizability failure
  std::uint64_t seeds_tried_ = 0;  // by step 5
  static constexpr std::uint64_t second = 1'000'000'000;
  static constexpr std::size_t few_faults = 5;    // the size a case is small enough at
  static constexpr std::size_t many_faults = 20;  // a chain delta debugging would take long over
};

}  // namespace

shrink_result shrink(const run_options& failing, const shrink_options& options) {
  shrink_result result;
  shrinker(options, result).run(failing);
  return result;
}

}  // namespace dkv::sim
