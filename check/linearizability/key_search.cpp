#include "check/linearizability/key_search.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include <xxhash.h>

namespace dkv::check {

namespace {

// A point of the search: the next operation, where each key's window of
// gaps starts (after its last operation, and after its last placement), the
// info writes used, each key's state (now, and right after that placement),
// and the gaps of the open windows that some key of the group already took
// (none for one key: its windows start after its last placement).
struct configuration {
  std::size_t pos;
  std::vector<std::size_t> firsts;
  std::vector<std::uint64_t> used;
  std::vector<dkv_entry> entries;
  std::vector<std::size_t> busy;
  bool operator==(const configuration&) const = default;
};

struct configuration_hash {
  std::size_t operator()(const configuration& c) const noexcept {
    std::uint64_t h = XXH3_64bits_withSeed(c.used.data(), c.used.size() * sizeof(std::uint64_t), c.pos * 31);
    h = XXH3_64bits_withSeed(c.firsts.data(), c.firsts.size() * sizeof(std::size_t), h);
    h = XXH3_64bits_withSeed(c.busy.data(), c.busy.size() * sizeof(std::size_t), h);
    for (const dkv_entry& e : c.entries) {
      h = XXH3_64bits_withSeed(e.value.data(), e.value.size(), h ^ e.exists);
      h ^= (e.expire_at * 0x9e3779b97f4a7c15ULL) ^ (e.delete_at * 0xc2b2ae3d27d4eb4fULL);
    }
    return h;
  }
};

constexpr std::size_t none = ~std::size_t{0};

class searcher {
 public:
  searcher(const std::vector<key_step>& steps, const std::vector<key_info_write>& infos, const gap_table& gaps,
           const check_budget& budget)
      : steps_(steps), infos_(infos), gaps_(gaps), budget_(budget), busy_(gaps.index.size(), false) {
    for (const key_step& s : steps_) keys_.push_back(s.op.key);
    for (const key_info_write& w : infos_) keys_.push_back(w.op.key);
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    // Writes that act alike (same key, kind and arguments) share a kind.
    for (std::size_t u = 0; u < infos_.size(); ++u) {
      const dkv_op& op = infos_[u].op;
      std::size_t k = 0;
      while (k < equal_.size() && !alike(infos_[equal_[k].front()].op, op)) ++k;
      if (k == equal_.size()) equal_.emplace_back();
      equal_[k].push_back(u);
      kind_.push_back(k);
    }
    floor_.assign(keys_.size(), 0);
    base_.assign(keys_.size(), dkv_entry{});
    std::vector<std::size_t> last(keys_.size(), none);
    for (std::size_t p = 0; p < steps_.size(); ++p) {
      const std::size_t s = slot(steps_[p].op.key);
      previous_.push_back(last[s]);
      last[s] = p;
    }
  }

  key_search_result run() {
    key_search_result out;
    std::vector<std::uint64_t> used((infos_.size() + 63) / 64, 0);
    const std::vector<dkv_entry> fresh(keys_.size());
    // The directed search places an info write only where the next operation
    // needs one; if it finds nothing, the exhaustive one decides.
    bool found = directed(0, std::vector<std::uint64_t>(keys_.size(), 0), fresh, used);
    if (!found && !stopped_) {
      failed_.clear();
      path_.clear();
      may_act_after_.clear();
      std::fill(used.begin(), used.end(), 0);
      found = search(0, 0, fresh, used);
    }
    const verdict v = search_verdict(found, stopped_, counted_, budget_, out.result);
    if (v == verdict::linearizable) {
      out.placed = path_;
      out.may_act_after = may_act_after_;
      for (const key_step& s : steps_) out.result.longest_prefix.push_back(s.id);
    } else if (v == verdict::not_linearizable) {
      for (std::size_t i = 0; i < deepest_; ++i) out.result.longest_prefix.push_back(steps_[i].id);
      out.result.stuck = steps_[deepest_].id;
      out.result.has_stuck = true;
    }
    return out;
  }

 private:
  // The key's place in `entries` (keys of a group are few).
  std::size_t slot(std::uint32_t key) const {
    return static_cast<std::size_t>(std::lower_bound(keys_.begin(), keys_.end(), key) - keys_.begin());
  }

  static bool alike(const dkv_op& a, const dkv_op& b) {
    return a.key == b.key && a.kind == b.kind && a.value == b.value && a.expire_in == b.expire_in &&
           a.delete_in == b.delete_in;
  }
  static bool is_used(const std::vector<std::uint64_t>& used, std::size_t u) { return (used[u / 64] >> (u % 64)) & 1; }

  bool tick() {
    ++counted_;
    if (counted_ > budget_.max_steps || ((counted_ & 4095) == 0 && budget_.stopped())) stopped_ = true;
    return !stopped_;
  }

  // Whether `step` holds on `entry` (applying it if it is a write).
  static bool holds(const key_step& step, dkv_entry& entry) {
    if (!is_write(step.op.kind)) return read_matches(entry, step.op, step.index);
    return apply_write(entry, step.op, step.index) == step.op.found || step.op.kind != operation_kind::remove_if_value;
  }

  void place(std::size_t g, std::size_t u, std::vector<std::uint64_t>& used) {
    used[u / 64] |= std::uint64_t{1} << (u % 64);
    path_.emplace_back(g, infos_[u].id);
    path_keys_.push_back(infos_[u].op.key);
    busy_[g] = true;
  }
  void unplace(std::size_t g, std::size_t u, std::vector<std::uint64_t>& used) {
    busy_[g] = false;
    path_keys_.pop_back();
    path_.pop_back();
    used[u / 64] &= ~(std::uint64_t{1} << (u % 64));
  }

  configuration describe(std::size_t pos, const std::vector<std::uint64_t>& after,
                         const std::vector<std::uint64_t>& used, const std::vector<dkv_entry>& entries) const {
    configuration c{pos, {}, used, entries, {}};
    auto gap_after = [&](std::uint64_t a) {
      return static_cast<std::size_t>(std::upper_bound(gaps_.index.begin(), gaps_.index.end(), a) -
                                      gaps_.index.begin());
    };
    // A write may go back to its key's last placement, and its key's
    // operations since then replay from the state that placement left.
    for (std::uint64_t a : after) c.firsts.push_back(gap_after(a));
    for (std::uint64_t f : floor_) c.firsts.push_back(gap_after(f));
    c.entries.insert(c.entries.end(), base_.begin(), base_.end());
    if (keys_.size() > 1) {
      const std::uint64_t oldest = *std::min_element(floor_.begin(), floor_.end());
      for (const auto& [g, id] : path_)
        if (gaps_.index[g] > oldest) c.busy.push_back(g);
      std::sort(c.busy.begin(), c.busy.end());
    }
    return c;
  }

  // Walks the operations; when one does not hold, tries each single unused
  // info write of its key at a free gap since that key's last operation
  // that makes it hold (earliest invoked first — it fits the most gaps — at
  // the earliest gap it may take; the exact gap matters only for writes with
  // expiry or deletion, which try every gap; the final assignment may move
  // the others within their range). In a group the gap also decides which
  // gaps the other keys keep, so every gap is tried there. Then gaps before
  // the key's earlier operations, back to its last placement, where those
  // operations still hold with the write in place: the write may have to
  // act before one it leaves alone (a DeleteIfValue of another value), or
  // before an Expire that hides it from a read.
  bool directed(std::size_t pos, std::vector<std::uint64_t> after, std::vector<dkv_entry> entries,
                std::vector<std::uint64_t>& used) {
    for (;;) {
      if (!tick()) return false;
      if (pos == steps_.size()) return true;
      const key_step& next = steps_[pos];
      const std::size_t s = slot(next.op.key);
      if (trail_.size() <= pos) trail_.resize(pos + 1);
      trail_[pos] = entries[s];
      dkv_entry trial = entries[s];
      if (holds(next, trial)) {
        entries[s] = std::move(trial);
        after[s] = next.index;
        ++pos;
        continue;
      }
      deepest_ = std::max(deepest_, pos);
      const std::uint64_t limit = next.index + (is_write(next.op.kind) ? 0 : 1);
      const auto first = static_cast<std::size_t>(std::upper_bound(gaps_.index.begin(), gaps_.index.end(), after[s]) -
                                                  gaps_.index.begin());
      const auto last = static_cast<std::size_t>(std::lower_bound(gaps_.index.begin(), gaps_.index.end(), limit) -
                                                 gaps_.index.begin());
      const bool group = keys_.size() > 1;
      // The key's operations since its last placement, nearest first: a few,
      // since each gap before one of them means replaying them all.
      std::vector<std::size_t> back;
      for (std::size_t p = previous_[pos]; p != none && steps_[p].index > floor_[s] && back.size() < 16;
           p = previous_[p])
        back.push_back(p);
      configuration c = describe(pos, after, used, entries);
      if (failed_.count(c)) return false;
      std::vector<std::size_t> tried;                    // kinds of write tried here: an equal write acts the same
      for (std::size_t u = 0; u < infos_.size(); ++u) {  // earliest invoked first: it may take the most gaps
        if (is_used(used, u) || infos_[u].op.key != next.op.key) continue;
        if (std::find(tried.begin(), tried.end(), kind_[u]) != tried.end()) continue;
        tried.push_back(kind_[u]);
        const dkv_op& op = infos_[u].op;
        const bool exact = (op.kind == operation_kind::set_e || op.kind == operation_kind::set_e_if_unset) &&
                           (op.expire_in != 0 || op.delete_in != 0);
        // The earliest gap it may take: an info write took an index soon after
        // its call, and choosing gaps close to the calls keeps keys apart.
        const auto from = static_cast<std::size_t>(
            std::lower_bound(gaps_.deadline.begin() + static_cast<std::ptrdiff_t>(first),
                             gaps_.deadline.begin() + static_cast<std::ptrdiff_t>(std::max(first, last)),
                             infos_[u].call_ns) -
            gaps_.deadline.begin());
        for (std::size_t g = from; g < last; ++g) {
          if (gaps_.taken[g] || busy_[g]) continue;
          if (try_gap(pos, {}, 0, u, g, after, entries, used)) return true;
          if (stopped_) return false;
          if (!exact && !group) break;  // any other gap in the range acts the same
        }
        // Back over the key's operations since its last placement, nearest first.
        for (std::size_t i = 0; i < back.size(); ++i) {
          const std::size_t p = back[i];
          const std::uint64_t below = std::max(previous_[p] == none ? 0 : steps_[previous_[p]].index, floor_[s]);
          const std::uint64_t above = steps_[p].index + (is_write(steps_[p].op.kind) ? 0 : 1);
          const auto lo = static_cast<std::size_t>(std::upper_bound(gaps_.index.begin(), gaps_.index.end(), below) -
                                                   gaps_.index.begin());
          const auto hi = static_cast<std::size_t>(std::lower_bound(gaps_.index.begin(), gaps_.index.end(), above) -
                                                   gaps_.index.begin());
          // An operation failing there is no reason to stop: an Expire further back, say, may mend it.
          for (std::size_t g = std::min(hi, first); g-- > lo;) {
            if (gaps_.deadline[g] < infos_[u].call_ns) break;  // and all gaps before it: invoked too late
            if (gaps_.taken[g] || busy_[g]) continue;
            if (try_gap(pos, back, i, u, g, after, entries, used)) return true;
            if (stopped_) return false;
            if (!exact && !group) break;  // the slot's other gaps act the same
          }
          if (lo < hi && gaps_.deadline[lo] < infos_[u].call_ns) break;
        }
      }
      if (!stopped_) failed_.insert(std::move(c));
      return false;
    }
  }

  // Puts info write u at gap g: just before the next operation if `back` is
  // empty, else before the key's operation back[i], if the key's operations
  // from there on — the next one included — hold with it; if so searches on.
  // Of the equal unused writes, the latest invoked that may take g goes:
  // earlier ones stay free for earlier gaps, which few writes may take.
  bool try_gap(std::size_t pos, const std::vector<std::size_t>& back, std::size_t i, std::size_t u, std::size_t g,
               const std::vector<std::uint64_t>& after, const std::vector<dkv_entry>& entries,
               std::vector<std::uint64_t>& used) {
    for (std::size_t v : equal_[kind_[u]])
      if (v > u && infos_[v].call_ns <= gaps_.deadline[g] && !is_used(used, v)) u = v;
    const dkv_op& op = infos_[u].op;
    const std::size_t s = slot(op.key);
    const std::size_t p = back.empty() ? pos : back[i];
    dkv_entry placed = back.empty() ? entries[s] : trail_[p];
    apply_write(placed, op, gaps_.index[g]);
    // The key's states before back[i], ..., back[0] with the write in place.
    std::vector<std::pair<std::size_t, dkv_entry>> replayed;
    dkv_entry e = placed;
    for (std::size_t j = back.empty() ? 0 : i + 1; j-- > 0;) {
      const std::size_t q = back[j];
      if (e == trail_[q]) return false;  // back on the recorded track: the next operation fails again
      replayed.emplace_back(q, e);
      if (!holds(steps_[q], e)) return false;
    }
    if (dkv_entry check = e; !holds(steps_[pos], check)) return false;
    const bool exact = (op.kind == operation_kind::set_e || op.kind == operation_kind::set_e_if_unset) &&
                       (op.expire_in != 0 || op.delete_in != 0);
    place(g, u, used);
    if (!exact) may_act_after_[infos_[u].id] = earliest_slot(p, op, placed);
    for (auto& [q, state] : replayed) std::swap(trail_[q], state);
    const std::uint64_t old_floor = floor_[s];
    dkv_entry old_base = std::exchange(base_[s], placed);
    floor_[s] = gaps_.index[g];
    std::vector<dkv_entry> fixed_entries = entries;
    fixed_entries[s] = std::move(e);
    std::vector<std::uint64_t> fixed_after = after;
    fixed_after[s] = std::max(after[s], gaps_.index[g]);
    if (directed(pos, std::move(fixed_after), std::move(fixed_entries), used)) return true;
    floor_[s] = old_floor;
    base_[s] = std::move(old_base);
    for (auto& [q, state] : replayed) std::swap(trail_[q], state);
    unplace(g, u, used);
    may_act_after_.erase(infos_[u].id);
    return false;
  }

  // How far back before operation `pos` the write `op` could act instead and
  // leave its key exactly as `fixed`: the index after which it may act.
  std::uint64_t earliest_slot(std::size_t pos, const dkv_op& op, const dkv_entry& fixed) const {
    const auto slot_start = [&](std::size_t p) {
      return previous_[p] == none ? std::uint64_t{0} : steps_[previous_[p]].index;
    };
    // Not before this key's previous placed write (path_.back() is `op` itself).
    std::optional<std::uint64_t> floor;
    for (std::size_t i = path_.size() - 1; i-- > 0;)
      if (path_keys_[i] == op.key) {
        floor = gaps_.index[path_[i].first];
        break;
      }
    std::uint64_t lower = slot_start(pos);
    for (std::size_t p = previous_[pos]; p != none; p = previous_[p]) {
      if (floor && steps_[p].index <= *floor) break;
      dkv_entry e = trail_[p];
      apply_write(e, op, slot_start(p) + 1);
      bool ok = true;
      for (std::size_t q = p; q < pos && ok; ++q)
        if (steps_[q].op.key == op.key) ok = holds(steps_[q], e);
      if (!ok || !(e == fixed)) break;
      lower = slot_start(p);
    }
    return lower;
  }

  // From operation `pos`, deciding gaps from `cursor` on, with `entries` the keys' states.
  bool search(std::size_t pos, std::size_t cursor, std::vector<dkv_entry> entries, std::vector<std::uint64_t>& used) {
    for (;;) {
      if (!tick()) return false;
      if (pos == steps_.size()) return true;
      const key_step& next = steps_[pos];
      const bool read = !is_write(next.op.kind);
      const std::uint64_t limit = next.index + (read ? 1 : 0);  // gaps below this come before `next`
      while (cursor < gaps_.index.size() && gaps_.taken[cursor]) ++cursor;
      if (cursor < gaps_.index.size() && gaps_.index[cursor] < limit) {
        const std::uint64_t g = gaps_.index[cursor];
        std::vector<std::size_t> candidates;  // latest invoked first: early ones stay free for early gaps
        for (std::size_t u = infos_.size(); u-- > 0;) {
          if ((used[u / 64] >> (u % 64)) & 1 || infos_[u].call_ns > gaps_.deadline[cursor]) continue;
          const dkv_entry& entry = entries[slot(infos_[u].op.key)];
          dkv_entry after = entry;
          apply_write(after, infos_[u].op, g);
          if (!(after == entry)) candidates.push_back(u);
        }
        if (candidates.empty()) {  // nothing of these keys can act here: leave the gap
          ++cursor;
          continue;
        }
        configuration c{pos, {cursor}, used, entries, {}};
        if (failed_.count(c)) return false;
        // Leaving the gap first: a key takes no more gaps than it needs.
        if (search(pos, cursor + 1, entries, used)) return true;
        for (std::size_t u : candidates) {
          std::vector<dkv_entry> changed = entries;
          apply_write(changed[slot(infos_[u].op.key)], infos_[u].op, g);
          place(cursor, u, used);
          if (search(pos, cursor + 1, std::move(changed), used)) return true;
          unplace(cursor, u, used);
          if (stopped_) return false;
        }
        if (!stopped_) failed_.insert(std::move(c));
        return false;
      }
      // Every gap before `next` is decided: apply it at its index.
      if (!holds(next, entries[slot(next.op.key)])) {
        deepest_ = std::max(deepest_, pos);
        return false;
      }
      ++pos;
    }
  }

  const std::vector<key_step>& steps_;
  const std::vector<key_info_write>& infos_;
  const gap_table& gaps_;
  const check_budget& budget_;
  std::vector<std::uint32_t> keys_;    // the group's keys, ascending
  std::vector<std::size_t> previous_;  // the same key's previous operation, or none
  std::vector<bool> busy_;             // gaps the current path took
  std::unordered_set<configuration, configuration_hash> failed_;
  placements path_;
  std::vector<std::uint32_t> path_keys_;  // the key of each placement on the path
  std::map<std::size_t, std::uint64_t> may_act_after_;
  std::vector<dkv_entry> trail_;                 // the state of its key before each operation on the current path
  std::vector<std::size_t> kind_;                // per info write: its kind, a position in equal_
  std::vector<std::vector<std::size_t>> equal_;  // per kind: its writes, by call time
  std::vector<std::uint64_t> floor_;             // per key: the index of its last placement on the directed path, or 0
  std::vector<dkv_entry> base_;                  // per key: its state right after that placement
  std::size_t deepest_ = 0;
  std::uint64_t counted_ = 0;
  bool stopped_ = false;
};

}  // namespace

key_search_result search_key(const std::vector<key_step>& steps, const std::vector<key_info_write>& infos,
                             const gap_table& gaps, const check_budget& budget) {
  return searcher(steps, infos, gaps, budget).run();
}

}  // namespace dkv::check
