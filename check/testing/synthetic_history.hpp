#pragma once
// Simulator-style dkv histories with a known answer, for tests and the
// checker benchmark. Client slots issue operations one at a time; each takes
// effect at a random instant between its call and its return, in effect order
// against a docs/spec.md store, so the history is linearizable by construction
// (with the indexes a real store reports). Some operations end `info`:
// applied or not, at random, never answered — and their slot continues under
// a fresh process id, as docs/history.md asks. `poison_read` then breaks it.

#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "check/linearizability/dkv_model.hpp"
#include "check/history/history.hpp"
#include "store/rng.hpp"

namespace dkv::test {

struct synthetic_options {
  std::size_t operations = 1000;
  std::uint32_t slots = 8;  // clients at once
  std::uint32_t keys = 8;
  double info = 0.05;  // fraction of operations that end unknown
  std::uint64_t seed = 1;
  bool ttl = true;  // include SetE / SetEIfUnset with expiry and deletion
};

// "k12", "v7": appended piecewise (GCC 12 warns falsely on "k" + std::to_string at -O3).
inline std::string tagged(char tag, std::uint64_t n) {
  std::string s(1, tag);
  s += std::to_string(n);
  return s;
}

inline check::history synthetic_history(const synthetic_options& o) {
  using namespace dkv::check;
  dkv::rng random(o.seed);
  history h;
  h.format = history_format::dkv_json;
  std::vector<dkv_entry> store(o.keys);
  std::uint64_t clock = 0, next_value = 0;
  std::vector<std::uint32_t> process(o.slots);
  for (std::uint32_t s = 0; s < o.slots; ++s) process[s] = s;
  std::uint32_t next_process = o.slots;

  struct pending {
    std::uint64_t effect_ns;
    std::size_t op;  // index into h.operations
    std::uint32_t slot;
    bool operator>(const pending& b) const { return effect_ns > b.effect_ns; }
  };
  std::priority_queue<pending, std::vector<pending>, std::greater<>> effects;
  std::vector<std::uint64_t> free_at(o.slots, 0);
  static const char* names[] = {"set", "setE", "setEIfUnset", "expire", "delete", "deleteIfValue", "get", "has"};

  auto issue = [&](std::uint32_t slot) {
    operation op;
    op.process = process[slot];
    op.call_ns = free_at[slot] + random.between(1'000, 50'000);
    const std::uint64_t roll = random.below(100);
    const int kind = roll < 25   ? 0
                     : roll < 35 ? (o.ttl ? 1 : 0)
                     : roll < 40 ? (o.ttl ? 2 : 0)
                     : roll < 45 ? 3
                     : roll < 50 ? 4
                     : roll < 55 ? 5
                     : roll < 90 ? 6
                                 : 7;
    op.f = names[kind];
    op.key = tagged('k', random.below(o.keys));
    if (kind <= 2) op.value = tagged('v', ++next_value);
    if (kind == 1 || kind == 2) {
      op.expire_in = random.below(3) == 0 ? 0 : random.between(1, 200);
      op.delete_in = random.below(3) == 0 ? 0 : random.between(1, 400);
    }
    if (kind == 5) op.value = tagged('v', next_value - random.below(std::min<std::uint64_t>(next_value, 20) + 1));
    const std::uint64_t effect = op.call_ns + random.between(1'000, 200'000);
    op.return_ns = effect + random.between(1'000, 200'000);
    h.operations.push_back(std::move(op));
    effects.push({effect, h.operations.size() - 1, slot});
  };
  for (std::uint32_t s = 0; s < o.slots && h.operations.size() < o.operations; ++s) issue(s);

  while (!effects.empty()) {
    const pending p = effects.top();
    effects.pop();
    operation& op = h.operations[p.op];
    dkv_op model;
    model.kind = *operation_named(op.f);
    model.value = op.value;
    model.expire_in = op.expire_in;
    model.delete_in = op.delete_in;
    dkv_entry& entry = store[std::stoul(op.key.substr(1))];
    const bool unknown = random.chance(o.info);
    const bool applied = !unknown || random.chance(0.5);
    if (is_write(model.kind)) {
      if (applied) {
        ++clock;
        op.found = apply_write(entry, model, clock);
        op.index = clock;
      }
    } else {
      op.index = clock;
      if (model.kind == operation_kind::has) {
        op.found = entry.exists && !entry.deleted_at(clock);
      } else {
        op.found = entry.live_at(clock);
        op.result_value = op.found ? entry.value : std::string();
      }
    }
    if (unknown) {
      op.result = outcome::info;
      op.return_ns = never;
      op.index.reset();
      op.result_value.reset();
      op.found = false;
      op.code = 4;
      process[p.slot] = next_process++;  // an info process never issues again
      free_at[p.slot] = p.effect_ns;
    } else {
      op.result = outcome::ok;
      free_at[p.slot] = op.return_ns;
    }
    if (h.operations.size() < o.operations) issue(p.slot);
  }
  std::stable_sort(h.operations.begin(), h.operations.end(),
                   [](const operation& a, const operation& b) { return a.call_ns < b.call_ns; });
  return h;
}

// Makes one found read return a value no write ever wrote; false if there is none.
inline bool poison_read(check::history& h, std::uint64_t seed) {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < h.operations.size(); ++i)
    if (h.operations[i].result == check::outcome::ok && h.operations[i].f == "get" && h.operations[i].found)
      candidates.push_back(i);
  if (candidates.empty()) return false;
  dkv::rng random(seed);
  h.operations[candidates[random.below(candidates.size())]].result_value = "never-written";
  return true;
}

}  // namespace dkv::test
