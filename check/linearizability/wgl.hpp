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
// An `info` operation returns at `never` and its model step never fails
// (an effect it could not have had is one it did not have), so it may take
// effect at any point after its call, or — placed last — never.
//
// A Model provides: `state`, `op`, `initial()`, `step(state, op, next) -> bool`,
// `hash(state)`; states compare with ==. The search calls them on a model
// instance, so a model may carry context.

#include <algorithm>
#include <cstdint>
#include <vector>

#include "check/history/history.hpp"
#include "check/linearizability/verdict.hpp"

namespace dkv::check {

template <class Model>
struct timed_op {
  typename Model::op op;
  std::uint64_t call_ns;
  std::uint64_t return_ns;  // `never` for an info operation
  std::size_t id;           // the operation's position in the history
};

namespace wgl {

// Calls and returns of n operations, in time order, on a doubly linked list
// the search lifts operations out of and puts them back into. Node 0 is the
// head, the call of operation i is node 2i+1 and its return 2i+2, and
// `end()` the tail sentinel.
class event_list {
 public:
  template <class Op>
  explicit event_list(const std::vector<Op>& ops) : next_(2 * ops.size() + 2), prev_(2 * ops.size() + 2) {
    struct event {
      std::uint64_t time;
      bool is_return;
      std::size_t op;
    };
    std::vector<event> events;
    events.reserve(2 * ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      events.push_back({ops[i].call_ns, false, i});
      events.push_back({ops[i].return_ns, true, i});
    }
    std::stable_sort(events.begin(), events.end(), [](const event& a, const event& b) {
      return a.time != b.time ? a.time < b.time : (!a.is_return && b.is_return);
    });
    std::size_t last = 0;
    for (const event& e : events) {
      const std::size_t node = 2 * e.op + (e.is_return ? 2 : 1);
      next_[last] = node;
      prev_[node] = last;
      last = node;
    }
    next_[last] = end();
    prev_[end()] = last;
  }

  std::size_t end() const noexcept { return next_.size() - 1; }
  std::size_t first() const noexcept { return next_[0]; }
  bool empty() const noexcept { return next_[0] == end(); }
  std::size_t next(std::size_t node) const noexcept { return next_[node]; }
  std::size_t prev(std::size_t node) const noexcept { return prev_[node]; }
  static bool is_call(std::size_t node) noexcept { return node % 2 == 1; }
  static std::size_t call_of(std::size_t op) noexcept { return 2 * op + 1; }

  // Lifts operation `op` (its call and its return) out of the list.
  void lift(std::size_t op) {
    unlink(call_of(op));
    unlink(call_of(op) + 1);
  }
  // Puts it back where it was (the reverse of the lift that took it out last).
  void restore(std::size_t op) {
    relink(call_of(op) + 1);
    relink(call_of(op));
  }

 private:
  void unlink(std::size_t node) {
    next_[prev_[node]] = next_[node];
    prev_[next_[node]] = prev_[node];
  }
  void relink(std::size_t node) {
    next_[prev_[node]] = node;
    prev_[next_[node]] = node;
  }

  std::vector<std::size_t> next_, prev_;
};

// The operations linearized so far: a bitset with an order-free hash (the
// xor of a key per operation), so that flipping one bit updates the hash.
class linearized_set {
 public:
  explicit linearized_set(std::size_t n) : bits_((n + 63) / 64, 0) {}

  void flip(std::size_t i) noexcept {
    bits_[i / 64] ^= std::uint64_t{1} << (i % 64);
    hash_ ^= key(i);
  }
  const std::vector<std::uint64_t>& bits() const noexcept { return bits_; }
  std::uint64_t hash() const noexcept { return hash_; }

 private:
  static std::uint64_t key(std::size_t i) noexcept {
    std::uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::vector<std::uint64_t> bits_;
  std::uint64_t hash_ = 0;
};

// Every distinct model state, stored once and named by its position: the
// search's stack and the configurations hold ids, not states.
template <class Model>
class state_table {
 public:
  using state = typename Model::state;

  explicit state_table(const Model& model) : model_(model) {}

  std::uint32_t intern(state&& s) {
    const std::uint64_t h = model_.hash(s);
    std::size_t mask = slots_.size() - 1;
    std::size_t slot = h & mask;
    for (; slots_[slot] != empty_slot; slot = (slot + 1) & mask) {
      const std::uint32_t id = slots_[slot];
      if (hashes_[id] == h && states_[id] == s) return id;
    }
    const auto id = static_cast<std::uint32_t>(states_.size());
    states_.push_back(std::move(s));
    hashes_.push_back(h);
    if (states_.size() * 2 > slots_.size()) {  // grow and re-place every id
      slots_.assign(slots_.size() * 2, empty_slot);
      mask = slots_.size() - 1;
      for (std::uint32_t other = 0; other < states_.size(); ++other) {
        std::size_t at = hashes_[other] & mask;
        while (slots_[at] != empty_slot) at = (at + 1) & mask;
        slots_[at] = other;
      }
    } else {
      slots_[slot] = id;
    }
    return id;
  }
  const state& operator[](std::uint32_t id) const noexcept { return states_[id]; }
  std::uint64_t hash_of(std::uint32_t id) const noexcept { return hashes_[id]; }

 private:
  static constexpr std::uint32_t empty_slot = ~0u;
  const Model& model_;
  std::vector<state> states_;
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(1024, empty_slot);  // open addressing over ids
};

// Every configuration (linearized set, state id) seen, the sets' bits kept in
// one arena: few allocations however many there are.
class configuration_set {
 public:
  // Adds the configuration; false if it was there already.
  bool insert(const linearized_set& done, std::uint32_t state_id, std::uint64_t state_hash) {
    const std::vector<std::uint64_t>& bits = done.bits();
    const std::size_t words = bits.size();
    const std::uint64_t h = done.hash() ^ (state_hash * 0xff51afd7ed558ccdULL) ^ state_id;
    std::size_t mask = table_.size() - 1;
    for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
      if (table_[slot] == empty_slot) break;
      const std::uint32_t c = table_[slot];
      if (hashes_[slot] == h && states_[c] == state_id &&
          std::equal(bits.begin(), bits.end(), arena_.begin() + static_cast<std::ptrdiff_t>(c * words)))
        return false;
    }
    const auto c = static_cast<std::uint32_t>(count_++);
    arena_.insert(arena_.end(), bits.begin(), bits.end());
    states_.push_back(state_id);
    if (count_ * 2 > table_.size()) grow();
    mask = table_.size() - 1;
    std::size_t slot = h & mask;
    while (table_[slot] != empty_slot) slot = (slot + 1) & mask;
    table_[slot] = c;
    hashes_[slot] = h;
    return true;
  }

 private:
  static constexpr std::uint32_t empty_slot = ~0u;

  void grow() {  // twice the slots, every configuration placed again
    std::vector<std::uint32_t> old_table(table_.size() * 2, empty_slot);
    std::vector<std::uint64_t> old_hashes(table_.size() * 2);
    old_table.swap(table_);
    old_hashes.swap(hashes_);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = 0; i < old_table.size(); ++i) {
      if (old_table[i] == empty_slot) continue;
      std::size_t slot = old_hashes[i] & mask;
      while (table_[slot] != empty_slot) slot = (slot + 1) & mask;
      table_[slot] = old_table[i];
      hashes_[slot] = old_hashes[i];
    }
  }

  std::vector<std::uint64_t> arena_;   // bits of every configuration, `words` each
  std::vector<std::uint32_t> states_;  // and its state id
  std::vector<std::uint32_t> table_ = std::vector<std::uint32_t>(1024, empty_slot);  // configuration numbers
  std::vector<std::uint64_t> hashes_ = std::vector<std::uint64_t>(1024);
  std::size_t count_ = 0;
};

}  // namespace wgl

template <class Model>
partition_result wgl_check(const Model& model, const std::vector<timed_op<Model>>& ops, const check_budget& budget) {
  partition_result result;
  if (ops.empty()) return result;

  wgl::event_list events(ops);
  wgl::linearized_set done(ops.size());
  wgl::state_table<Model> states(model);
  wgl::configuration_set seen;

  // A choice made: the operation linearized, the state before it, the phase it was tried in.
  struct frame {
    std::size_t op;
    std::uint32_t before;
    int phase;
  };
  std::vector<frame> stack;
  std::uint32_t state = states.intern(model.initial());
  std::size_t entry = events.first();

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
  const bool any_info = std::any_of(ops.begin(), ops.end(), [](const auto& o) { return o.return_ns == never; });
  int phase = 0;
  while (!events.empty()) {
    if (++result.steps > budget.max_steps || ((result.steps & 4095) == 0 && budget.stopped())) {
      result.result = verdict::unknown;
      result.out_of_steps = result.steps > budget.max_steps;
      return result;
    }
    if (entry != 0 && entry != events.end() && events.is_call(entry)) {  // try to linearize its operation now
      const std::size_t i = (entry - 1) / 2;
      const bool info = ops[i].return_ns == never;
      if ((phase == 1) == info) {
        typename Model::state after;
        if (model.step(states[state], ops[i].op, after)) {
          done.flip(i);
          const std::uint32_t after_id = states.intern(std::move(after));
          if (seen.insert(done, after_id, states.hash_of(after_id))) {
            stack.push_back({i, state, phase});
            state = after_id;
            events.lift(i);
            record_progress();
            entry = events.first();
            phase = 0;
            continue;
          }
          done.flip(i);
        }
      }
      entry = phase == 0 ? events.next(entry) : events.prev(entry);
      continue;
    }
    // Phase 0 reached a return (or the end) of an operation not linearized yet.
    if (phase == 0) {
      if (entry != events.end() && stack.size() == result.longest_prefix.size() && !result.has_stuck) {
        result.stuck = ops[(entry - 2) / 2].id;
        result.has_stuck = true;
      }
      if (any_info) {
        phase = 1;
        entry = events.prev(entry);
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
    done.flip(top.op);
    events.restore(top.op);
    const std::size_t call = wgl::event_list::call_of(top.op);
    entry = phase == 0 ? events.next(call) : events.prev(call);
  }
  result.longest_prefix.clear();
  for (const frame& f : stack) result.longest_prefix.push_back(ops[f.op].id);
  return result;
}

}  // namespace dkv::check
