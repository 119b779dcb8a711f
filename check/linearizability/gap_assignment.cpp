#include "check/linearizability/gap_assignment.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "check/linearizability/key_timeline.hpp"

namespace dkv::check {

namespace {

constexpr std::size_t none = ~std::size_t{0};

std::vector<key_timeline> timelines_of(const history& h, const dkv_view& c, const gap_table& gaps,
                                       const std::vector<placements>& placed) {
  std::vector<key_timeline> timelines(c.keys.size());
  for (std::size_t key = 0; key < c.keys.size(); ++key) timelines[key].build(h, c, key, placed[key], gaps);
  return timelines;
}

// The common case first: keep each search's placements, and give every gap
// left, in index order, the latest-invoked unused info write its key still
// accepts there — re-checking the key with each write added, so writes of one
// key never spoil each other.
bool fill_gaps_greedily(const history& h, const dkv_view& c, const gap_table& gaps, std::vector<placements>& placed,
                        const std::vector<std::size_t>& info_writes) {
  std::vector<bool> taken(gaps.index.size(), false);
  std::set<std::size_t> used;
  for (const auto& key_placed : placed)
    for (const auto& [g, id] : key_placed) {
      taken[g] = true;
      used.insert(id);
    }
  std::vector<key_timeline> timelines = timelines_of(h, c, gaps, placed);
  for (std::size_t g = 0; g < gaps.index.size(); ++g) {
    if (taken[g]) continue;
    const auto eligible =
        std::upper_bound(info_writes.begin(), info_writes.end(), gaps.deadline[g],
                         [&](std::uint64_t t, std::size_t id) { return t < h.operations[id].call_ns; });
    bool filled = false;
    for (auto it = eligible; it != info_writes.begin() && !filled;) {
      --it;
      const std::size_t key = c.ops[*it].key;
      if (used.count(*it) || !timelines[key].accepts(c, c.ops[*it], gaps.index[g])) continue;
      used.insert(*it);
      placed[key].emplace_back(g, *it);
      timelines[key].add(c, *it, gaps.index[g]);
      filled = true;
    }
    if (!filled) return false;
  }
  // A last full replay: the answer must not rest on the incremental bookkeeping.
  for (std::size_t key = 0; key < c.keys.size(); ++key)
    if (!timelines[key].consistent(c)) return false;
  return true;
}

// The general case: a bipartite matching between gaps and info writes, found
// by augmenting paths. First every needed write gets a gap in its range (a
// write whose expiry or deletion depends on its exact index, one where its
// key still replays), then every gap left gets a write, moving needed ones
// within their ranges if that helps. Each key is finally replayed with all
// its placements.
class gap_matching {
 public:
  gap_matching(const history& h, const dkv_view& c, const gap_table& gaps, const std::vector<placements>& placed,
               const std::vector<std::size_t>& info_writes,
               const std::vector<std::map<std::size_t, std::uint64_t>>& may_act_after)
      : h_(h),
        c_(c),
        gaps_(gaps),
        placed_(placed),
        writes_(info_writes),
        timelines_(timelines_of(h, c, gaps, placed)),
        needed_(writes_.size(), false),
        range_(writes_.size(), {0, gaps.index.size()}),
        gap_owner_(gaps.index.size(), none),
        write_gap_(writes_.size(), none),
        seen_gap_(gaps.index.size(), 0),
        seen_write_(writes_.size(), 0) {
    for (std::size_t w = 0; w < writes_.size(); ++w) position_of_[writes_[w]] = w;
    find_needs(may_act_after);
  }

  bool assign(std::vector<placements>& placed, assignment_failure& why) {
    std::vector<placements> needs_placed;
    if (!place_needs(needs_placed, why)) return false;
    if (fill_gaps_greedily(h_, c_, gaps_, needs_placed, writes_)) {
      placed = std::move(needs_placed);
      return true;
    }
    if (!fill_every_gap(why)) return false;
    for (auto& key_placed : placed) key_placed.clear();
    for (std::size_t w = 0; w < writes_.size(); ++w)
      if (write_gap_[w] != none) placed[c_.ops[writes_[w]].key].emplace_back(write_gap_[w], writes_[w]);
    for (std::size_t key = 0; key < c_.keys.size(); ++key) {
      timelines_[key].build(h_, c_, key, placed[key], gaps_);
      if (!timelines_[key].consistent(c_)) return false;
    }
    return true;
  }

 private:
  // The writes the searches placed are needed; each may take a gap between
  // its neighbouring ok operations on its key's timeline (reads at r may see
  // writes up to r) — the final replay checks the order among info writes
  // that share a range — or, with expiry or deletion, only the gaps of that
  // range where its key still replays correctly.
  void find_needs(const std::vector<std::map<std::size_t, std::uint64_t>>& may_act_after) {
    for (std::size_t key = 0; key < c_.keys.size(); ++key)
      for (const auto& [g, id] : placed_[key]) {
        const std::size_t w = position_of_.at(id);
        needed_[w] = true;
        std::uint64_t lower = 0, upper = ~std::uint64_t{0};
        for (const auto& step : timelines_[key].steps()) {
          if (h_.operations[step.id].result != outcome::ok) continue;  // other info writes may move too
          if (step.index < gaps_.index[g])
            lower = std::max(lower, step.index);
          else
            upper = std::min(upper, step.read ? step.index + 1 : step.index);
        }
        if (const auto earlier = may_act_after[key].find(id); earlier != may_act_after[key].end())
          lower = std::min(lower, earlier->second);
        range_[w] = {gap_position_after(lower), gap_position_at_or_after(upper)};
        const dkv_op& op = c_.ops[id];
        const bool exact = (op.kind == operation_kind::set_e || op.kind == operation_kind::set_e_if_unset) &&
                           (op.expire_in != 0 || op.delete_in != 0);
        if (!exact) continue;
        placements others;
        for (const auto& p : placed_[key])
          if (p.second != id) others.push_back(p);
        key_timeline without;
        without.build(h_, c_, key, others, gaps_);
        for (std::size_t other = range_[w].first; other < range_[w].second; ++other)
          if (other == g || without.accepts(c_, op, gaps_.index[other])) exact_gaps_[w].push_back(other);
      }
  }

  std::size_t gap_position_after(std::uint64_t index) const {
    return static_cast<std::size_t>(std::upper_bound(gaps_.index.begin(), gaps_.index.end(), index) -
                                    gaps_.index.begin());
  }
  std::size_t gap_position_at_or_after(std::uint64_t index) const {
    return static_cast<std::size_t>(std::lower_bound(gaps_.index.begin(), gaps_.index.end(), index) -
                                    gaps_.index.begin());
  }

  bool can_take(std::size_t w, std::size_t g) {
    if (h_.operations[writes_[w]].call_ns > gaps_.deadline[g]) return false;
    if (needed_[w]) {
      if (const auto it = exact_gaps_.find(w); it != exact_gaps_.end())
        return std::binary_search(it->second.begin(), it->second.end(), g);
      return g >= range_[w].first && g < range_[w].second;
    }
    // Judged against the timelines of the needs' final places (place_needs).
    const auto [it, fresh] = harmless_.try_emplace({w, g}, false);
    if (fresh) it->second = timelines_[c_.ops[writes_[w]].key].accepts(c_, c_.ops[writes_[w]], gaps_.index[g]);
    return it->second;
  }

  // An augmenting path from write w (within its range).
  bool place_write(std::size_t w) {
    for (std::size_t g = range_[w].first; g < range_[w].second; ++g) {
      if (seen_gap_[g] == round_ || !can_take(w, g)) continue;
      seen_gap_[g] = round_;
      if (gap_owner_[g] == none || place_write(gap_owner_[g])) {
        gap_owner_[g] = w;
        write_gap_[w] = g;
        return true;
      }
    }
    return false;
  }

  // An augmenting path from gap g, trying the writes invoked early enough, latest first.
  bool fill_gap(std::size_t g) {
    const auto eligible = static_cast<std::size_t>(
        std::upper_bound(writes_.begin(), writes_.end(), gaps_.deadline[g],
                         [&](std::uint64_t t, std::size_t id) { return t < h_.operations[id].call_ns; }) -
        writes_.begin());
    for (std::size_t w = eligible; w-- > 0;) {
      if (seen_write_[w] == round_ || !can_take(w, g)) continue;
      seen_write_[w] = round_;
      if (write_gap_[w] == none || fill_gap(write_gap_[w])) {
        gap_owner_[g] = w;
        write_gap_[w] = g;
        return true;
      }
    }
    return false;
  }

  // Every needed write gets a gap. Needed writes that share a range may swap:
  // a key that no longer replays with them where they went keeps them where
  // its search put them (pinned), and the needs are assigned again. The
  // timelines end built on the needs' new places, which the gaps left are
  // judged against.
  bool place_needs(std::vector<placements>& needs_placed, assignment_failure& why) {
    std::vector<bool> pinned(c_.keys.size(), false);
    for (bool settled = false; !settled;) {
      std::fill(gap_owner_.begin(), gap_owner_.end(), none);
      std::fill(write_gap_.begin(), write_gap_.end(), none);
      for (std::size_t w = 0; w < writes_.size(); ++w) {
        if (!needed_[w]) continue;
        ++round_;
        if (!place_write(w)) {
          name_contention(w, why);
          return false;
        }
      }
      needs_placed.assign(c_.keys.size(), {});
      for (std::size_t w = 0; w < writes_.size(); ++w)
        if (write_gap_[w] != none) needs_placed[c_.ops[writes_[w]].key].emplace_back(write_gap_[w], writes_[w]);
      settled = true;
      for (std::size_t key = 0; key < c_.keys.size(); ++key) {
        timelines_[key].build(h_, c_, key, needs_placed[key], gaps_);
        if (timelines_[key].consistent(c_)) continue;
        if (pinned[key]) return false;
        pinned[key] = true;
        settled = false;
        for (const auto& [g, id] : placed_[key]) {
          range_[position_of_.at(id)] = {g, g + 1};
          exact_gaps_.erase(position_of_.at(id));
        }
      }
    }
    return true;
  }

  // The keys of needed write w and of the writes its failed path reached.
  void name_contention(std::size_t w, assignment_failure& why) const {
    std::vector<std::size_t>& keys = why.contended;
    keys.push_back(c_.ops[writes_[w]].key);
    for (std::size_t g = 0; g < gaps_.index.size(); ++g)
      if (seen_gap_[g] == round_) keys.push_back(c_.ops[writes_[gap_owner_[g]]].key);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }

  // Every gap left gets a write; a gap none can take names the needed writes
  // invoked early enough for it, latest placed first.
  bool fill_every_gap(assignment_failure& why) {
    for (std::size_t g = 0; g < gaps_.index.size(); ++g) {
      if (gap_owner_[g] != none) continue;
      ++round_;
      if (fill_gap(g)) continue;
      std::vector<std::size_t> early;  // positions in writes_
      for (std::size_t w = 0; w < writes_.size() && h_.operations[writes_[w]].call_ns <= gaps_.deadline[g]; ++w)
        if (needed_[w]) early.push_back(w);
      std::sort(early.begin(), early.end(),
                [&](std::size_t a, std::size_t b) { return write_gap_[a] > write_gap_[b]; });
      for (std::size_t w : early) why.blocking.push_back(writes_[w]);
      return false;
    }
    return true;
  }

  const history& h_;
  const dkv_view& c_;
  const gap_table& gaps_;
  const std::vector<placements>& placed_;   // the searches' placements
  const std::vector<std::size_t>& writes_;  // info writes by call time
  std::vector<key_timeline> timelines_;
  std::map<std::size_t, std::size_t> position_of_;  // history id -> position in writes_
  std::vector<bool> needed_;
  std::vector<std::pair<std::size_t, std::size_t>> range_;        // of gap positions a needed write may take
  std::map<std::size_t, std::vector<std::size_t>> exact_gaps_;    // ascending gap positions
  std::map<std::pair<std::size_t, std::size_t>, bool> harmless_;  // (write, gap) -> its key does not notice
  std::vector<std::size_t> gap_owner_, write_gap_;
  std::vector<std::uint32_t> seen_gap_, seen_write_;  // the round that visited it
  std::uint32_t round_ = 0;
};

}  // namespace

bool assign_gaps(const history& h, const dkv_view& c, const gap_table& gaps, std::vector<placements>& placed,
                 const std::vector<std::size_t>& info_writes,
                 const std::vector<std::map<std::size_t, std::uint64_t>>& may_act_after, assignment_failure& why) {
  bool shared = false;  // two keys' searches chose one gap: only the matching can fix that
  std::vector<bool> seen(gaps.index.size(), false);
  for (const auto& key_placed : placed)
    for (const auto& [g, id] : key_placed) {
      shared = shared || seen[g];
      seen[g] = true;
    }
  if (std::vector<placements> attempt = placed; !shared && fill_gaps_greedily(h, c, gaps, attempt, info_writes)) {
    placed = std::move(attempt);
    return true;
  }
  return gap_matching(h, c, gaps, placed, info_writes, may_act_after).assign(placed, why);
}

}  // namespace dkv::check
