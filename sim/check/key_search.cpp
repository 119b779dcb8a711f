#include "sim/check/key_search.hpp"

#include <algorithm>
#include <unordered_set>

#include <xxhash.h>

namespace dkv::sim {

namespace {

struct configuration {
  std::size_t pos, cursor;
  std::vector<std::uint64_t> used;
  dkv_entry entry;
  bool operator==(const configuration&) const = default;
};

struct configuration_hash {
  std::size_t operator()(const configuration& c) const noexcept {
    std::uint64_t h = XXH3_64bits_withSeed(c.used.data(), c.used.size() * sizeof(std::uint64_t), c.pos * 31 + c.cursor);
    h = XXH3_64bits_withSeed(c.entry.value.data(), c.entry.value.size(), h ^ c.entry.exists);
    return h ^ (c.entry.expire_at * 0x9e3779b97f4a7c15ULL) ^ (c.entry.delete_at * 0xc2b2ae3d27d4eb4fULL);
  }
};

class searcher {
 public:
  searcher(const std::vector<key_step>& steps, const std::vector<key_info_write>& infos, const gap_table& gaps,
           const check_budget& budget)
      : steps_(steps), infos_(infos), gaps_(gaps), budget_(budget) {}

  key_search_result run() {
    key_search_result out;
    std::vector<std::uint64_t> used((infos_.size() + 63) / 64, 0);
    // The directed search places an info write only where the next operation
    // needs one; if it finds nothing, the exhaustive one decides.
    bool found = directed(0, 0, {}, used);
    if (!found && !stopped_) {
      failed_.clear();
      path_.clear();
      may_act_after_.clear();
      std::fill(used.begin(), used.end(), 0);
      found = search(0, 0, {}, used);
    }
    out.result.steps = counted_;
    if (stopped_) {
      out.result.result = verdict::unknown;
      out.result.out_of_steps = counted_ > budget_.max_steps;
    } else if (found) {
      out.result.result = verdict::linearizable;
      out.placed = path_;
      out.may_act_after = may_act_after_;
      for (const key_step& s : steps_) out.result.longest_prefix.push_back(s.id);
    } else {
      out.result.result = verdict::not_linearizable;
      for (std::size_t i = 0; i < deepest_; ++i) out.result.longest_prefix.push_back(steps_[i].id);
      out.result.stuck = steps_[deepest_].id;
      out.result.has_stuck = true;
    }
    return out;
  }

 private:
  bool tick() {
    ++counted_;
    if (counted_ > budget_.max_steps || ((counted_ & 4095) == 0 && budget_.stopped())) stopped_ = true;
    return !stopped_;
  }

  // Whether `step` holds on `entry` (applying it if it is a write).
  static bool holds(const key_step& step, dkv_entry& entry) {
    if (!is_write(step.op.kind)) return read_matches(entry, step.op, step.index);
    return apply_write(entry, step.op, step.index) == step.op.found || step.op.kind != dkv_op_kind::remove_if_value;
  }

  // Walks the key's operations; when one does not hold, tries each single
  // unused info write at a free gap since the last placed index that makes it
  // hold (earliest invoked first — it fits the most gaps — at the earliest
  // gap it may take; the exact gap matters only for writes with expiry or
  // deletion, which try every gap; the final assignment may move the others
  // within their range).
  bool directed(std::size_t pos, std::uint64_t after, dkv_entry entry, std::vector<std::uint64_t>& used) {
    for (;;) {
      if (!tick()) return false;
      if (pos == steps_.size()) return true;
      const key_step& next = steps_[pos];
      if (trail_.size() <= pos) trail_.resize(pos + 1);
      trail_[pos] = entry;
      dkv_entry trial = entry;
      if (holds(next, trial)) {
        entry = std::move(trial);
        after = next.index;
        ++pos;
        continue;
      }
      deepest_ = std::max(deepest_, pos);
      const std::uint64_t limit = next.index + (is_write(next.op.kind) ? 0 : 1);
      const auto first = static_cast<std::size_t>(std::upper_bound(gaps_.index.begin(), gaps_.index.end(), after) - gaps_.index.begin());
      const auto last = static_cast<std::size_t>(std::lower_bound(gaps_.index.begin(), gaps_.index.end(), limit) - gaps_.index.begin());
      if (first >= last) return false;
      configuration c{pos, first, used, entry};
      if (failed_.count(c)) return false;
      for (std::size_t u = 0; u < infos_.size(); ++u) {  // earliest invoked first: it may take the most gaps
        if ((used[u / 64] >> (u % 64)) & 1) continue;
        const dkv_op& op = infos_[u].op;
        const bool exact = (op.kind == dkv_op_kind::set_e || op.kind == dkv_op_kind::set_e_if_unset) &&
                           (op.expire_in != 0 || op.delete_in != 0);
        // The earliest gap it may take: an info write took an index soon after
        // its call, and choosing gaps close to the calls keeps keys apart.
        const auto from = static_cast<std::size_t>(
            std::lower_bound(gaps_.deadline.begin() + static_cast<std::ptrdiff_t>(first),
                             gaps_.deadline.begin() + static_cast<std::ptrdiff_t>(last), infos_[u].call_ns) -
            gaps_.deadline.begin());
        for (std::size_t g = from; g < last; ++g) {
          if (gaps_.taken[g]) continue;
          dkv_entry fixed = entry;
          apply_write(fixed, op, gaps_.index[g]);
          dkv_entry check = fixed;
          if (holds(next, check)) {
            used[u / 64] |= std::uint64_t{1} << (u % 64);
            path_.emplace_back(g, infos_[u].id);
            if (!exact) may_act_after_[infos_[u].id] = earliest_slot(pos, op, fixed);
            if (directed(pos, gaps_.index[g], std::move(fixed), used)) return true;
            may_act_after_.erase(infos_[u].id);
            path_.pop_back();
            used[u / 64] &= ~(std::uint64_t{1} << (u % 64));
            if (stopped_) return false;
          }
          if (!exact) break;  // any other gap in the range acts the same
        }
      }
      if (!stopped_) failed_.insert(std::move(c));
      return false;
    }
  }

  // How far back before operation `pos` the write `op` could act instead and
  // leave the key exactly as `fixed`: the index after which it may act.
  std::uint64_t earliest_slot(std::size_t pos, const dkv_op& op, const dkv_entry& fixed) const {
    const auto slot_start = [&](std::size_t p) { return p == 0 ? std::uint64_t{0} : steps_[p - 1].index; };
    std::uint64_t lower = slot_start(pos);
    for (std::size_t p = pos; p-- > 0;) {
      // Not before this key's previous placed write (path_.back() is `op` itself).
      if (path_.size() > 1 && steps_[p].index <= gaps_.index[path_[path_.size() - 2].first]) break;
      dkv_entry e = trail_[p];
      apply_write(e, op, slot_start(p) + 1);
      bool ok = true;
      for (std::size_t q = p; q < pos && ok; ++q) ok = holds(steps_[q], e);
      if (!ok || !(e == fixed)) break;
      lower = slot_start(p);
    }
    return lower;
  }

  // From operation `pos`, deciding gaps from `cursor` on, with `entry` the key's state.
  bool search(std::size_t pos, std::size_t cursor, dkv_entry entry, std::vector<std::uint64_t>& used) {
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
          dkv_entry after = entry;
          apply_write(after, infos_[u].op, g);
          if (!(after == entry)) candidates.push_back(u);
        }
        if (candidates.empty()) {  // nothing of this key can act here: leave the gap
          ++cursor;
          continue;
        }
        configuration c{pos, cursor, used, entry};
        if (failed_.count(c)) return false;
        // Leaving the gap first: a key takes no more gaps than it needs.
        if (search(pos, cursor + 1, entry, used)) return true;
        for (std::size_t u : candidates) {
          dkv_entry after = entry;
          apply_write(after, infos_[u].op, g);
          used[u / 64] |= std::uint64_t{1} << (u % 64);
          path_.emplace_back(cursor, infos_[u].id);
          if (search(pos, cursor + 1, std::move(after), used)) return true;
          path_.pop_back();
          used[u / 64] &= ~(std::uint64_t{1} << (u % 64));
          if (stopped_) return false;
        }
        if (!stopped_) failed_.insert(std::move(c));
        return false;
      }
      // Every gap before `next` is decided: apply it at its index.
      if (read) {
        if (!read_matches(entry, next.op, next.index)) {
          deepest_ = std::max(deepest_, pos);
          return false;
        }
      } else if (apply_write(entry, next.op, next.index) != next.op.found && next.op.kind == dkv_op_kind::remove_if_value) {
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
  std::unordered_set<configuration, configuration_hash> failed_;
  placements path_;
  std::map<std::size_t, std::uint64_t> may_act_after_;
  std::vector<dkv_entry> trail_;  // the key's state before each operation on the current path
  std::size_t deepest_ = 0;
  std::uint64_t counted_ = 0;
  bool stopped_ = false;
};

}  // namespace

key_search_result search_key(const std::vector<key_step>& steps, const std::vector<key_info_write>& infos,
                             const gap_table& gaps, const check_budget& budget) {
  return searcher(steps, infos, gaps, budget).run();
}

}  // namespace dkv::sim
