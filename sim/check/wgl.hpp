#pragma once
// The Wing–Gong–Lowe search for a linearization of one partition of a
// history, with Lowe's memoization: a (set of linearized operations, model
// state) pair that was seen before is never explored again.
//
// Operations are calls and returns on a doubly linked list in time order
// (calls before returns at equal times). The search walks it: at a call it
// tries to linearize that operation next (the model must accept it, and the
// resulting configuration must be new), lifting its call and return out of
// the list; at a return of an operation not yet linearized it backtracks.
// An `info` operation returns at +infinity and its model step never fails
// (an effect it could not have had is one it did not have), so it may take
// effect at any point after its call, or — placed last — never.
//
// A Model provides: `state`, `op`, `initial()`, `step(state, op, next) -> bool`,
// `hash(state)`; states compare with ==. The search calls them on a model
// instance, so a model may carry context (the dkv model's index gaps).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

namespace dkv::sim {

enum class verdict : std::uint8_t { linearizable, not_linearizable, unknown };

// The return time of an operation that never returned (an info one).
inline constexpr std::uint64_t never_returns = ~std::uint64_t{0};

struct check_budget {
  std::uint64_t max_steps = 50'000'000;       // per partition, deterministic
  const std::atomic<bool>* cancel = nullptr;  // set by a caller's wall-clock timeout
  const std::atomic<bool>* abandon = nullptr; // set by the checker when the answer no longer matters

  bool stopped() const noexcept {
    return (cancel && cancel->load(std::memory_order_relaxed)) || (abandon && abandon->load(std::memory_order_relaxed));
  }
};

template <class Model>
struct timed_op {
  typename Model::op op;
  std::uint64_t call_ns;
  std::uint64_t return_ns;
  std::size_t id;  // the operation's position in the history
};

struct partition_result {
  verdict result = verdict::linearizable;
  std::vector<std::size_t> longest_prefix;  // ids, in the order they were linearized
  std::size_t stuck = 0;                    // the first operation that cannot be placed after that prefix
  bool has_stuck = false;
  std::uint64_t steps = 0;
  bool out_of_steps = false;  // unknown because the step budget ran out (not cancelled)
};

template <class Model>
partition_result wgl_check(const Model& model, const std::vector<timed_op<Model>>& ops, const check_budget& budget) {
  using state_t = typename Model::state;
  partition_result result;
  const std::size_t n = ops.size();
  if (n == 0) return result;

  // Event list: node 0 is the head; call of op i is node 2i+1, its return 2i+2.
  struct event {
    std::uint64_t time;
    bool is_return;
    std::size_t op;
  };
  std::vector<event> events;
  events.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    events.push_back({ops[i].call_ns, false, i});
    events.push_back({ops[i].return_ns, true, i});
  }
  std::stable_sort(events.begin(), events.end(), [](const event& a, const event& b) {
    return a.time != b.time ? a.time < b.time : (!a.is_return && b.is_return);
  });
  const std::size_t nodes = 2 * n + 1;
  std::vector<std::size_t> next(nodes + 1), prev(nodes + 1);
  const std::size_t end = nodes;  // tail sentinel
  auto node_of = [](const event& e) { return 2 * e.op + (e.is_return ? 2 : 1); };
  std::size_t last = 0;
  for (const event& e : events) {
    const std::size_t node = node_of(e);
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  next[last] = end;
  prev[end] = last;

  auto unlink = [&](std::size_t node) {
    next[prev[node]] = next[node];
    prev[next[node]] = prev[node];
  };
  auto relink = [&](std::size_t node) {
    next[prev[node]] = node;
    prev[next[node]] = node;
  };

  // The linearized set as a bitset with an order-free hash (xor of per-op keys).
  const std::size_t words = (n + 63) / 64;
  std::vector<std::uint64_t> bits(words, 0);
  std::uint64_t bits_hash = 0;
  auto op_key = [](std::size_t i) {
    std::uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  auto flip = [&](std::size_t i) {
    bits[i / 64] ^= std::uint64_t{1} << (i % 64);
    bits_hash ^= op_key(i);
  };

  // Every distinct state is stored once and named by its position; a
  // configuration is (linearized set, state id), its bits kept in one arena.
  // Few allocations, and the search's stack holds ids, not states.
  std::vector<state_t> states;
  std::vector<std::uint64_t> state_hashes;
  std::vector<std::uint32_t> state_slots(1024, ~0u);  // open addressing over state ids
  auto intern = [&](state_t&& s) -> std::uint32_t {
    const std::uint64_t h = model.hash(s);
    std::size_t mask = state_slots.size() - 1;
    std::size_t slot = h & mask;
    for (; state_slots[slot] != ~0u; slot = (slot + 1) & mask) {
      const std::uint32_t id = state_slots[slot];
      if (state_hashes[id] == h && states[id] == s) return id;
    }
    const auto id = static_cast<std::uint32_t>(states.size());
    states.push_back(std::move(s));
    state_hashes.push_back(h);
    if (states.size() * 2 > state_slots.size()) {  // grow and re-place every id
      state_slots.assign(state_slots.size() * 2, ~0u);
      mask = state_slots.size() - 1;
      for (std::uint32_t other = 0; other < states.size(); ++other) {
        std::size_t at = state_hashes[other] & mask;
        while (state_slots[at] != ~0u) at = (at + 1) & mask;
        state_slots[at] = other;
      }
    } else {
      state_slots[slot] = id;
    }
    return id;
  };

  std::vector<std::uint64_t> arena;             // bits of every configuration seen, `words` each
  std::vector<std::uint32_t> arena_states;      // and its state id
  std::vector<std::uint32_t> table(1024, ~0u);  // open addressing over configuration numbers
  std::vector<std::uint64_t> table_hashes(1024);
  std::size_t configurations = 0;
  // Adds (bits, state); false if it was there already.
  auto remember = [&](std::uint32_t state_id) {
    const std::uint64_t h = bits_hash ^ (state_hashes[state_id] * 0xff51afd7ed558ccdULL) ^ state_id;
    std::size_t mask = table.size() - 1;
    for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
      if (table[slot] == ~0u) break;
      const std::uint32_t c = table[slot];
      if (table_hashes[slot] == h && arena_states[c] == state_id &&
          std::equal(bits.begin(), bits.end(), arena.begin() + static_cast<std::ptrdiff_t>(c * words)))
        return false;
    }
    const auto c = static_cast<std::uint32_t>(configurations++);
    arena.insert(arena.end(), bits.begin(), bits.end());
    arena_states.push_back(state_id);
    if (configurations * 2 > table.size()) {  // grow, re-placing every configuration
      std::vector<std::uint32_t> old_table(table.size() * 2, ~0u);
      std::vector<std::uint64_t> old_hashes(table.size() * 2);
      old_table.swap(table);
      old_hashes.swap(table_hashes);
      mask = table.size() - 1;
      for (std::size_t i = 0; i < old_table.size(); ++i) {
        if (old_table[i] == ~0u) continue;
        std::size_t slot = old_hashes[i] & mask;
        while (table[slot] != ~0u) slot = (slot + 1) & mask;
        table[slot] = old_table[i];
        table_hashes[slot] = old_hashes[i];
      }
    }
    std::size_t slot = h & mask;
    while (table[slot] != ~0u) slot = (slot + 1) & mask;
    table[slot] = c;
    table_hashes[slot] = h;
    return true;
  };

  struct frame {
    std::size_t op;
    std::uint32_t before;
    int phase;
  };
  std::vector<frame> stack;
  std::uint32_t state = intern(model.initial());
  std::size_t entry = next[0];

  auto record_progress = [&] {
    if (stack.size() <= result.longest_prefix.size()) return;
    result.longest_prefix.clear();
    for (const frame& f : stack) result.longest_prefix.push_back(ops[f.op].id);
    result.has_stuck = false;
  };

  // Each configuration tries the operations with a known outcome first, in
  // list order (phase 0), and the indeterminate (info) ones after, latest
  // invoked first (phase 1, walking back from the first return). The search
  // space is the same; the order finds linearizations that delay info
  // operations — to the end, where they have no effect, unless something
  // needs them earlier — and keeps early-invoked ones for early needs.
  const bool any_info = std::any_of(ops.begin(), ops.end(), [](const auto& o) { return o.return_ns == never_returns; });
  int phase = 0;
  while (next[0] != end) {
    if (++result.steps > budget.max_steps || ((result.steps & 4095) == 0 && budget.stopped())) {
      result.result = verdict::unknown;
      result.out_of_steps = result.steps > budget.max_steps;
      return result;
    }
    if (entry != 0 && entry != end && entry % 2 == 1) {  // a call: try to linearize its operation now
      const std::size_t i = (entry - 1) / 2;
      const bool info = ops[i].return_ns == never_returns;
      if ((phase == 1) == info) {
        state_t after;
        if (model.step(states[state], ops[i].op, after)) {
          flip(i);
          const std::uint32_t after_id = intern(std::move(after));
          if (remember(after_id)) {
            stack.push_back({i, state, phase});
            state = after_id;
            unlink(entry);
            unlink(entry + 1);
            record_progress();
            entry = next[0];
            phase = 0;
            continue;
          }
          flip(i);
        }
      }
      entry = phase == 0 ? next[entry] : prev[entry];
      continue;
    }
    // Phase 0 reached a return (or the end) of an operation not linearized yet.
    if (phase == 0) {
      if (entry != end && stack.size() == result.longest_prefix.size() && !result.has_stuck) {
        result.stuck = ops[(entry - 2) / 2].id;
        result.has_stuck = true;
      }
      if (any_info) {
        phase = 1;
        entry = prev[entry];
        continue;
      }
    }
    if (stack.empty()) {
      result.result = verdict::not_linearizable;
      return result;
    }
    // Undo the last choice and try the next candidate after it, in its phase.
    const frame top = stack.back();
    stack.pop_back();
    state = top.before;
    phase = top.phase;
    flip(top.op);
    const std::size_t call = 2 * top.op + 1;
    relink(call + 1);
    relink(call);
    entry = phase == 0 ? next[call] : prev[call];
  }
  result.longest_prefix.clear();
  for (const frame& f : stack) result.longest_prefix.push_back(ops[f.op].id);
  return result;
}

}  // namespace dkv::sim
