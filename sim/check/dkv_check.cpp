#include "sim/check/dkv_check.hpp"

#include <algorithm>
#include <map>
#include <functional>
#include <set>

#include "sim/check/dkv_model.hpp"
#include "sim/check/gap_search.hpp"
#include "sim/check/key_search.hpp"

namespace dkv::sim {

namespace {

struct converted {
  std::vector<std::string> keys;                         // sorted
  std::vector<std::vector<std::size_t>> ops_by_key;      // history ids (not fail), call order
  std::vector<dkv_op> ops;                               // by history id
  bool all_indexed = true;
};

converted convert(const history& h) {
  converted c;
  std::map<std::string, std::vector<std::size_t>> by_key;
  c.ops.resize(h.operations.size());
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result == outcome::fail) continue;
    dkv_op& op = c.ops[id];
    parse_dkv_op(o.f, op.kind);  // the parser accepted only known names
    op.value = o.f == "get" ? o.result_value.value_or("") : o.value;
    op.expire_in = o.expire_in;
    op.delete_in = o.delete_in;
    op.found = o.found;
    op.known = o.result == outcome::ok;
    if (op.known && !o.index) c.all_indexed = false;
    by_key[o.key].push_back(id);
  }
  for (auto& [key, ids] : by_key) {
    for (std::size_t id : ids) c.ops[id].key = static_cast<std::uint32_t>(c.keys.size());
    c.keys.push_back(key);
    c.ops_by_key.push_back(std::move(ids));
  }
  return c;
}

std::string describe(const history& h, std::size_t id) {
  const operation& o = h.operations[id];
  std::string s = "#" + std::to_string(id) + " " + o.f + "(" + o.key + ") by process " + std::to_string(o.process);
  if (o.index) s += " at index " + std::to_string(*o.index);
  return s;
}

check_report violation(check_report report, const history& h, std::vector<std::size_t> ops, std::string why) {
  report.result = verdict::not_linearizable;
  report.part = ops.empty() ? "" : h.operations[ops.front()].key;
  report.part_ops = std::move(ops);
  report.explanation = std::move(why);
  return report;
}

// Histories without indexes: one WGL search over the whole store.
check_report check_unsplit(const history& h, const converted& c, const check_options& options, check_report report) {
  std::vector<timed_op<dkv_store_model>> ops;
  for (std::size_t id = 0; id < h.operations.size(); ++id)
    if (h.operations[id].result != outcome::fail)
      ops.push_back({c.ops[id], h.operations[id].call_ns, h.operations[id].return_ns, id});
  const partition_result r = wgl_check(dkv_store_model{}, ops, options.budget);
  report.partitions = 1;
  report.steps = r.steps;
  report.result = r.result;
  if (r.result != verdict::linearizable) {
    for (const auto& op : ops) report.part_ops.push_back(op.id);
    report.longest_prefix = r.longest_prefix;
    if (r.has_stuck) report.stuck = r.stuck;
  }
  return report;
}

// One key's operations and placed info writes in index order, with the
// state before each: lets the final pass test an extra info write at a gap
// by replaying only until the key's state is what it was anyway.
struct key_timeline {
  struct step {
    std::uint64_t index;
    bool read;
    std::size_t id;
  };
  std::vector<step> steps;
  std::vector<dkv_entry> before;  // state before steps[i]

  void build(const history& h, const converted& c, std::size_t key, const placements& placed, const gap_table& gaps) {
    steps.clear();
    for (std::size_t id : c.ops_by_key[key])
      if (h.operations[id].result == outcome::ok)
        steps.push_back({*h.operations[id].index, !is_write(c.ops[id].kind), id});
    for (const auto& [g, id] : placed) steps.push_back({gaps.index[g], false, id});
    std::sort(steps.begin(), steps.end(), [](const step& a, const step& b) {
      return a.index != b.index ? a.index < b.index : a.read < b.read;
    });
    before.assign(1, dkv_entry{});
    dkv_entry entry;
    for (const step& s : steps) {
      if (!s.read) apply_write(entry, c.ops[s.id], s.index);
      before.push_back(entry);
    }
  }

  // Adds info write `id`, placed at gap index `at` (which `accepts` it):
  // the states before later steps change only until the key is back on its
  // recorded track.
  void add(const converted& c, std::size_t id, std::uint64_t at) {
    const auto p = static_cast<std::size_t>(
        std::lower_bound(steps.begin(), steps.end(), at, [](const step& s, std::uint64_t i) { return s.index < i; }) -
        steps.begin());
    steps.insert(steps.begin() + static_cast<std::ptrdiff_t>(p), step{at, false, id});
    dkv_entry entry = before[p];
    apply_write(entry, c.ops[id], at);
    before.insert(before.begin() + static_cast<std::ptrdiff_t>(p) + 1, entry);
    for (std::size_t q = p + 1; q < steps.size(); ++q) {  // before[q + 1]: the state without it
      if (!steps[q].read) apply_write(entry, c.ops[steps[q].id], steps[q].index);
      if (entry == before[q + 1]) break;
      before[q + 1] = entry;
    }
  }

  // Whether every read and DeleteIfValue outcome still holds with `extra` applied at `at`.
  bool accepts(const converted& c, const dkv_op& extra, std::uint64_t at) const {
    std::size_t p = static_cast<std::size_t>(
        std::lower_bound(steps.begin(), steps.end(), at, [](const step& s, std::uint64_t i) { return s.index < i; }) -
        steps.begin());
    dkv_entry entry = before[p];
    apply_write(entry, extra, at);
    for (; p < steps.size(); ++p) {
      if (entry == before[p]) return true;  // back on the recorded track
      const dkv_op& op = c.ops[steps[p].id];
      if (steps[p].read) {
        if (!read_matches(entry, op, steps[p].index)) return false;
      } else if (apply_write(entry, op, steps[p].index) != op.found && op.known &&
                 op.kind == dkv_op_kind::remove_if_value) {
        return false;
      }
    }
    return true;
  }

  // A full replay: every read and DeleteIfValue outcome as recorded?
  bool consistent(const converted& c) const {
    dkv_entry entry;
    for (const step& s : steps) {
      const dkv_op& op = c.ops[s.id];
      if (s.read) {
        if (!read_matches(entry, op, s.index)) return false;
      } else if (apply_write(entry, op, s.index) != op.found && op.known && op.kind == dkv_op_kind::remove_if_value) {
        return false;
      }
    }
    return true;
  }
};

// Every gap must be taken by exactly one info write. The per-key searches
// said which info writes must act (and between which of their key's
// operations); others may act wherever their key does not notice. This is a
// bipartite matching between gaps and info writes, found by augmenting paths:
// first every needed write gets a gap in its range (a write whose expiry or
// deletion depends on its exact index, one where its key still replays), then
// every gap left gets a write, moving needed ones within their ranges if that
// helps. Each key is finally replayed with all its placements. Failing
// anywhere is "unknown", never a verdict.
// The common case first: keep each search's placements, and give every gap
// left, in index order, the latest-invoked unused info write its key still
// accepts there — re-checking the key with each write added, so writes of one
// key never spoil each other.
bool fill_gaps_greedily(const history& h, const converted& c, const gap_table& gaps, std::vector<placements>& placed,
                        const std::vector<std::size_t>& info_writes) {
  std::vector<bool> taken(gaps.index.size(), false);
  std::set<std::size_t> used;
  for (const auto& key_placed : placed)
    for (const auto& [g, id] : key_placed) {
      taken[g] = true;
      used.insert(id);
    }
  std::vector<key_timeline> timelines(c.keys.size());
  for (std::size_t key = 0; key < c.keys.size(); ++key) timelines[key].build(h, c, key, placed[key], gaps);
  for (std::size_t g = 0; g < gaps.index.size(); ++g) {
    if (taken[g]) continue;
    const auto eligible = std::upper_bound(info_writes.begin(), info_writes.end(), gaps.deadline[g],
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

// Why an assignment failed, where it can tell.
struct assignment_failure {
  // The needed writes alone do not fit: the keys of those that compete for
  // too few gaps (the needs the failed augmenting search reached). Searched
  // as one group, they may choose other writes or gaps.
  std::vector<std::size_t> contended;
  // A gap no write may take: the needed writes (history ids) invoked early
  // enough for it, latest placed first. A key search picks the earliest
  // invoked write that serves, though a later one might serve as well, and
  // only writes invoked early may take an early gap.
  std::vector<std::size_t> blocking;
};

bool assign_gaps(const history& h, const converted& c, const gap_table& gaps, std::vector<placements>& placed,
                 const std::vector<std::size_t>& info_writes,
                 const std::vector<std::map<std::size_t, std::uint64_t>>& may_act_after, assignment_failure& why) {
  bool shared = false;  // two keys' searches chose one gap: only the matching below can fix that
  {
    std::vector<bool> seen(gaps.index.size(), false);
    for (const auto& key_placed : placed)
      for (const auto& [g, id] : key_placed) {
        shared = shared || seen[g];
        seen[g] = true;
      }
  }
  if (std::vector<placements> attempt = placed; !shared && fill_gaps_greedily(h, c, gaps, attempt, info_writes)) {
    placed = std::move(attempt);
    return true;
  }
  const std::size_t none = ~std::size_t{0};
  std::vector<key_timeline> timelines(c.keys.size());
  for (std::size_t key = 0; key < c.keys.size(); ++key) timelines[key].build(h, c, key, placed[key], gaps);

  // Writes in call order; for needed ones, the range of gap positions they may take.
  std::vector<std::size_t> writes = info_writes;
  std::map<std::size_t, std::size_t> position_of;
  for (std::size_t w = 0; w < writes.size(); ++w) position_of[writes[w]] = w;
  std::vector<bool> needed(writes.size(), false);
  std::vector<std::pair<std::size_t, std::size_t>> range(writes.size(), {0, gaps.index.size()});
  std::map<std::size_t, std::vector<std::size_t>> exact_gaps;  // ascending gap positions
  for (std::size_t key = 0; key < c.keys.size(); ++key)
    for (const auto& [g, id] : placed[key]) {
      const std::size_t w = position_of.at(id);
      needed[w] = true;
      const dkv_op& op = c.ops[id];
      // Between its neighbouring ok operations on the key's timeline (reads at
      // r may see writes up to r); the final replay checks the order among
      // info writes that share a range.
      const auto& steps = timelines[key].steps;
      std::uint64_t lower = 0, upper = ~std::uint64_t{0};
      for (const auto& step : steps) {
        if (h.operations[step.id].result != outcome::ok) continue;  // other info writes may move too
        if (step.index < gaps.index[g]) lower = std::max(lower, step.index);
        else upper = std::min(upper, step.read ? step.index + 1 : step.index);
      }
      if (const auto earlier = may_act_after[key].find(id); earlier != may_act_after[key].end())
        lower = std::min(lower, earlier->second);
      range[w] = {static_cast<std::size_t>(std::upper_bound(gaps.index.begin(), gaps.index.end(), lower) - gaps.index.begin()),
                  static_cast<std::size_t>(std::lower_bound(gaps.index.begin(), gaps.index.end(), upper) - gaps.index.begin())};
      // A write with expiry or deletion acts differently at each index: keep
      // the gaps of its range where the key still replays correctly.
      const bool exact = (op.kind == dkv_op_kind::set_e || op.kind == dkv_op_kind::set_e_if_unset) &&
                         (op.expire_in != 0 || op.delete_in != 0);
      if (exact) {
        placements others;
        for (const auto& p : placed[key])
          if (p.second != id) others.push_back(p);
        key_timeline without;
        without.build(h, c, key, others, gaps);
        for (std::size_t other = range[w].first; other < range[w].second; ++other)
          if (other == g || without.accepts(c, op, gaps.index[other])) exact_gaps[w].push_back(other);
      }
    }

  std::map<std::pair<std::size_t, std::size_t>, bool> harmless_cache;
  auto can_take = [&](std::size_t w, std::size_t g) {
    if (h.operations[writes[w]].call_ns > gaps.deadline[g]) return false;
    if (needed[w]) {
      if (const auto it = exact_gaps.find(w); it != exact_gaps.end())
        return std::binary_search(it->second.begin(), it->second.end(), g);
      return g >= range[w].first && g < range[w].second;
    }
    const auto [it, fresh] = harmless_cache.try_emplace({w, g}, false);
    if (fresh) it->second = timelines[c.ops[writes[w]].key].accepts(c, c.ops[writes[w]], gaps.index[g]);
    return it->second;
  };

  std::vector<std::size_t> gap_owner(gaps.index.size(), none), write_gap(writes.size(), none);
  std::vector<std::uint32_t> seen_gap(gaps.index.size(), 0), seen_write(writes.size(), 0);
  std::uint32_t round = 0;
  // Augmenting path from a write (phase 1) or from a gap (phase 2).
  std::function<bool(std::size_t)> place_write = [&](std::size_t w) {
    for (std::size_t g = range[w].first; g < range[w].second; ++g) {
      if (seen_gap[g] == round || !can_take(w, g)) continue;
      seen_gap[g] = round;
      if (gap_owner[g] == none || place_write(gap_owner[g])) {
        gap_owner[g] = w;
        write_gap[w] = g;
        return true;
      }
    }
    return false;
  };
  std::function<bool(std::size_t)> fill_gap = [&](std::size_t g) {
    const auto eligible = static_cast<std::size_t>(
        std::upper_bound(writes.begin(), writes.end(), gaps.deadline[g],
                         [&](std::uint64_t t, std::size_t id) { return t < h.operations[id].call_ns; }) -
        writes.begin());
    for (std::size_t w = eligible; w-- > 0;) {  // latest invoked first
      if (seen_write[w] == round || !can_take(w, g)) continue;
      seen_write[w] = round;
      if (write_gap[w] == none || fill_gap(write_gap[w])) {
        gap_owner[g] = w;
        write_gap[w] = g;
        return true;
      }
    }
    return false;
  };
  // Needed writes that share a range may swap: a key that no longer replays
  // with them where they went keeps them where its search put them, and the
  // needs are assigned again. The needed writes' new places are what the
  // gaps left are judged against.
  std::vector<placements> needs_placed;
  std::vector<bool> pinned(c.keys.size(), false);
  for (bool settled = false; !settled;) {
    std::fill(gap_owner.begin(), gap_owner.end(), none);
    std::fill(write_gap.begin(), write_gap.end(), none);
    for (std::size_t w = 0; w < writes.size(); ++w) {
      if (!needed[w]) continue;
      ++round;
      if (!place_write(w)) {
        std::vector<std::size_t>& keys = why.contended;
        keys.push_back(c.ops[writes[w]].key);
        for (std::size_t g = 0; g < gaps.index.size(); ++g)
          if (seen_gap[g] == round) keys.push_back(c.ops[writes[gap_owner[g]]].key);
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
        return false;
      }
    }
    needs_placed.assign(c.keys.size(), {});
    for (std::size_t w = 0; w < writes.size(); ++w)
      if (write_gap[w] != none) needs_placed[c.ops[writes[w]].key].emplace_back(write_gap[w], writes[w]);
    settled = true;
    for (std::size_t key = 0; key < c.keys.size(); ++key) {
      timelines[key].build(h, c, key, needs_placed[key], gaps);
      if (timelines[key].consistent(c)) continue;
      if (pinned[key]) return false;
      pinned[key] = true;
      settled = false;
      for (const auto& [g, id] : placed[key]) {
        range[position_of.at(id)] = {g, g + 1};
        exact_gaps.erase(position_of.at(id));
      }
    }
  }
  if (fill_gaps_greedily(h, c, gaps, needs_placed, info_writes)) {
    placed = std::move(needs_placed);
    return true;
  }
  for (std::size_t g = 0; g < gaps.index.size(); ++g) {
    if (gap_owner[g] != none) continue;
    ++round;
    if (!fill_gap(g)) {
      std::vector<std::size_t> early;  // positions in `writes`
      for (std::size_t w = 0; w < writes.size() && h.operations[writes[w]].call_ns <= gaps.deadline[g]; ++w)
        if (needed[w]) early.push_back(w);
      std::sort(early.begin(), early.end(), [&](std::size_t a, std::size_t b) { return write_gap[a] > write_gap[b]; });
      for (std::size_t w : early) why.blocking.push_back(writes[w]);
      return false;
    }
  }

  for (auto& key_placed : placed) key_placed.clear();
  for (std::size_t w = 0; w < writes.size(); ++w)
    if (write_gap[w] != none) placed[c.ops[writes[w]].key].emplace_back(write_gap[w], writes[w]);
  for (std::size_t key = 0; key < c.keys.size(); ++key) {
    timelines[key].build(h, c, key, placed[key], gaps);
    if (!timelines[key].consistent(c)) return false;
  }
  return true;
}

}  // namespace

check_report check_dkv_history(const history& h, const check_options& options) {
  check_report report;
  report.model = model_kind::dkv;
  const converted c = convert(h);
  if (!c.all_indexed || !options.split) return check_unsplit(h, c, options, report);

  // 1. Unique write indexes.
  std::map<std::uint64_t, std::size_t> writer;
  std::uint64_t highest = 0;
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result != outcome::ok) continue;
    highest = std::max(highest, *o.index);
    if (!is_write(c.ops[id].kind)) continue;
    if (*o.index == 0) return violation(report, h, {id}, describe(h, id) + ": a write cannot have index 0");
    const auto [it, fresh] = writer.emplace(*o.index, id);
    if (!fresh)
      return violation(report, h, {it->second, id},
                       "index " + std::to_string(*o.index) + " is used by two writes, " + describe(h, it->second) +
                           " and " + describe(h, id) + ": a duplicated write");
  }

  // 2. Index order agrees with real time: non-decreasing points inside each interval.
  struct positioned {
    std::uint64_t index;
    bool read;
    std::uint64_t call, ret;
    std::size_t id;
  };
  std::vector<positioned> order;
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    const operation& o = h.operations[id];
    if (o.result == outcome::ok) order.push_back({*o.index, !is_write(c.ops[id].kind), o.call_ns, o.return_ns, id});
  }
  std::sort(order.begin(), order.end(), [](const positioned& a, const positioned& b) {
    if (a.index != b.index) return a.index < b.index;
    if (a.read != b.read) return !a.read;
    return a.call < b.call;
  });
  std::uint64_t point = 0;
  std::size_t latest_call = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (order[k].call > point) {
      point = order[k].call;
      latest_call = k;
    }
    if (point > order[k].ret)
      return violation(report, h, {order[k].id, order[latest_call].id},
                       describe(h, order[k].id) + " returned before " + describe(h, order[latest_call].id) +
                           " was invoked, yet comes after it in index order");
  }

  // 3. Every index up to the highest is explained: gaps need info writes invoked in time.
  gap_table gaps;
  {
    std::vector<std::uint64_t> suffix_min(order.size() + 1, never);
    for (std::size_t k = order.size(); k-- > 0;) suffix_min[k] = std::min(suffix_min[k + 1], order[k].ret);
    std::size_t k = 0;
    for (std::uint64_t g = 1; g <= highest; ++g) {
      if (writer.count(g)) continue;
      while (k < order.size() && order[k].index < g) ++k;
      gaps.index.push_back(g);
      gaps.deadline.push_back(suffix_min[k]);
    }
    gaps.taken.assign(gaps.index.size(), false);
  }
  std::vector<std::size_t> info_writes;
  for (std::size_t id = 0; id < h.operations.size(); ++id)
    if (h.operations[id].result == outcome::info && is_write(c.ops[id].kind)) info_writes.push_back(id);
  std::sort(info_writes.begin(), info_writes.end(),
            [&](std::size_t a, std::size_t b) { return h.operations[a].call_ns < h.operations[b].call_ns; });
  for (std::size_t g = 0, eligible = 0; g < gaps.index.size(); ++g) {
    // Deadlines do not decrease, so the writes eligible for a gap only grow: count them.
    while (eligible < info_writes.size() && h.operations[info_writes[eligible]].call_ns <= gaps.deadline[g]) ++eligible;
    if (eligible < g + 1)
      return violation(report, h, {},
                       "index " + std::to_string(gaps.index[g]) +
                           " was taken by a write that no operation of the history can account for: a lost or "
                           "phantom write");
  }

  // A read can only return a value some write to its key carried, invoked
  // before the read returned — a cheap necessary condition that names a
  // phantom value at once instead of after an exhaustive search.
  {
    std::map<std::pair<std::uint32_t, std::string>, std::uint64_t> first_written;  // (key, value) -> earliest call
    for (std::size_t id = 0; id < h.operations.size(); ++id) {
      const dkv_op& op = c.ops[id];
      if (h.operations[id].result == outcome::fail) continue;
      if (op.kind != dkv_op_kind::set && op.kind != dkv_op_kind::set_e && op.kind != dkv_op_kind::set_e_if_unset) continue;
      auto [it, fresh] = first_written.try_emplace({op.key, op.value}, h.operations[id].call_ns);
      if (!fresh) it->second = std::min(it->second, h.operations[id].call_ns);
    }
    for (std::size_t id = 0; id < h.operations.size(); ++id) {
      const operation& o = h.operations[id];
      if (o.result != outcome::ok || c.ops[id].kind != dkv_op_kind::get || !o.found) continue;
      const auto it = first_written.find({c.ops[id].key, c.ops[id].value});
      if (it == first_written.end() || it->second > o.return_ns) {
        report = violation(report, h, c.ops_by_key[c.ops[id].key],
                           describe(h, id) + " returned a value that no write to its key, invoked before it returned, wrote");
        report.stuck = id;
        return report;
      }
    }
  }

  // 4. Each key's reads against its writes in index order (info writes searched).
  const std::size_t key_count = c.keys.size();
  std::vector<std::vector<key_step>> key_steps(key_count);
  std::vector<std::vector<key_info_write>> key_infos(key_count);
  for (const positioned& p : order) key_steps[c.ops[p.id].key].push_back({p.id, c.ops[p.id], p.index});
  for (std::size_t id : info_writes) key_infos[c.ops[id].key].push_back({id, c.ops[id], h.operations[id].call_ns});

  report.partitions = key_count;
  std::vector<placements> used(key_count);
  std::vector<std::map<std::size_t, std::uint64_t>> may_act_after(key_count);
  auto check_key = [&](std::size_t key, const check_budget& b) {
    key_search_result r = search_key(key_steps[key], key_infos[key], gaps, b);
    used[key] = std::move(r.placed);
    may_act_after[key] = std::move(r.may_act_after);
    return r.result;
  };
  std::vector<partition_result> results = check_parts(key_count, options.threads, check_key, options.budget);

  std::optional<std::size_t> failing, unknown;
  for (std::size_t key = 0; key < key_count; ++key) {
    report.steps += results[key].steps;
    if (results[key].result == verdict::not_linearizable && !failing) failing = key;
    if (results[key].result == verdict::unknown && !unknown) unknown = key;
  }
  // Keys searched independently may have put info writes into the same gap;
  // the assignment moves them apart within their ranges.
  auto assigned = [&](assignment_failure& why) {
    if (std::vector<placements> attempt = used; assign_gaps(h, c, gaps, attempt, info_writes, may_act_after, why)) {
      used = std::move(attempt);
      return true;
    }
    return false;
  };
  // If it cannot, the keys whose needs compete for too few gaps are searched
  // again as one group, where each gap serves one of them (a key may then
  // choose another write, or fewer), and assigned again; a group grows as
  // more keys join a contention, so this ends within key_count rounds. An
  // early gap that no write may take makes a key (its group) search again
  // without one of the early writes it needed — a few times at most, as
  // each such search may spend the group budget.
  std::set<std::size_t> excluded;  // info writes the searches may not use
  std::size_t exclusions_tried = 0;
  check_budget group_budget = options.budget;
  group_budget.max_steps = std::min<std::uint64_t>(options.budget.max_steps, 2'000'000);
  auto search_group = [&](const std::vector<std::size_t>& members) {
    std::vector<bool> member(key_count, false);
    for (std::size_t key : members) member[key] = true;
    std::vector<key_step> steps;
    for (const positioned& p : order)
      if (member[c.ops[p.id].key]) steps.push_back({p.id, c.ops[p.id], p.index});
    std::vector<key_info_write> infos;
    for (std::size_t id : info_writes)
      if (member[c.ops[id].key] && !excluded.count(id)) infos.push_back({id, c.ops[id], h.operations[id].call_ns});
    const key_search_result r = search_key(steps, infos, gaps, group_budget);
    report.steps += r.result.steps;
    if (r.result.result != verdict::linearizable) return false;
    for (std::size_t key : members) {
      used[key].clear();
      may_act_after[key].clear();
    }
    for (const auto& placement : r.placed) used[c.ops[placement.second].key].push_back(placement);
    for (const auto& [id, after] : r.may_act_after) may_act_after[c.ops[id].key][id] = after;
    return true;
  };
  auto assigned_in_groups = [&] {
    std::vector<std::size_t> group(key_count);  // each key's group, named by a member
    for (std::size_t key = 0; key < key_count; ++key) group[key] = key;
    auto members_of = [&](std::size_t named) {
      std::vector<std::size_t> members;
      for (std::size_t key = 0; key < key_count; ++key)
        if (group[key] == named) members.push_back(key);
      return members;
    };
    for (;;) {
      assignment_failure why;
      if (assigned(why)) return true;
      if (!why.blocking.empty()) {
        bool freed = false;
        for (std::size_t k = 0; k < why.blocking.size() && exclusions_tried < 8 && !freed; ++k) {
          const std::size_t id = why.blocking[k];
          ++exclusions_tried;
          excluded.insert(id);
          freed = search_group(members_of(group[c.ops[id].key]));
          if (!freed) excluded.erase(id);
        }
        if (!freed) return false;
        continue;
      }
      std::set<std::size_t> involved;
      for (std::size_t key : why.contended) involved.insert(group[key]);
      if (involved.size() < 2) return false;  // already searched as one: nothing new to try
      std::vector<std::size_t> members;
      for (std::size_t key = 0; key < key_count; ++key)
        if (involved.count(group[key])) {
          group[key] = *involved.begin();
          members.push_back(key);
        }
      if (!search_group(members)) return false;
    }
  };
  // Failing that, search the keys again one after another, each leaving the
  // gaps taken before it (a key that cannot do without one moves to the
  // front, a few times, with small budgets), and assign again.
  auto search_one_after_another = [&] {
    std::vector<std::size_t> keys_in_order(key_count);
    for (std::size_t key = 0; key < key_count; ++key) keys_in_order[key] = key;
    check_budget retry_budget = options.budget;
    retry_budget.max_steps = std::min<std::uint64_t>(options.budget.max_steps, 1'000'000);
    bool separated = false;
    for (std::size_t attempt = 0; attempt < std::min<std::size_t>(key_count, 4) && !separated; ++attempt) {
      std::fill(gaps.taken.begin(), gaps.taken.end(), false);
      separated = true;
      for (std::size_t k = 0; k < key_count && separated; ++k) {
        const std::size_t key = keys_in_order[k];
        if (check_key(key, retry_budget).result != verdict::linearizable) {
          std::rotate(keys_in_order.begin(), keys_in_order.begin() + static_cast<std::ptrdiff_t>(k),
                      keys_in_order.begin() + static_cast<std::ptrdiff_t>(k) + 1);
          separated = false;
        }
        for (const auto& placement : used[key]) gaps.taken[placement.first] = true;
      }
    }
    std::fill(gaps.taken.begin(), gaps.taken.end(), false);
    return separated;
  };
  assignment_failure ignored;
  if (!failing && !unknown && !assigned_in_groups() && !(search_one_after_another() && assigned(ignored))) {
    // No arrangement built from the per-key searches explains every gap
    // (another might): search all gaps at once, in index order.
    std::vector<gap_search_step> steps;
    for (const positioned& p : order) steps.push_back({p.id, c.ops[p.id], p.index});
    std::vector<key_info_write> infos;
    for (std::size_t id : info_writes) infos.push_back({id, c.ops[id], h.operations[id].call_ns});
    std::fill(gaps.taken.begin(), gaps.taken.end(), false);
    const gap_search_result whole = search_gaps(steps, infos, gaps, key_count, options.budget);
    report.steps += whole.result.steps;
    report.result = whole.result.result;
    if (whole.result.result == verdict::unknown)
      report.explanation = "the info writes could not be fitted into the index gaps within the budget";
    if (whole.result.result == verdict::not_linearizable) {
      report.explanation = "no choice of info writes for the index gaps explains every read";
      report.longest_prefix = whole.result.longest_prefix;
      if (whole.result.has_stuck) {
        report.stuck = whole.result.stuck;
        report.part = h.operations[whole.result.stuck].key;
      }
    }
    return report;
  }
  if (const auto chosen = failing ? failing : unknown) {
    report.result = failing ? verdict::not_linearizable : verdict::unknown;
    report.part = c.keys[*chosen];
    report.part_ops = c.ops_by_key[*chosen];
    report.longest_prefix = results[*chosen].longest_prefix;
    if (results[*chosen].has_stuck) report.stuck = results[*chosen].stuck;
    if (failing && results[*chosen].has_stuck)
      report.explanation = describe(h, results[*chosen].stuck) + " cannot be placed: no state of key '" +
                           c.keys[*chosen] + "' at its index explains its result";
    return report;
  }
  return report;
}

}  // namespace dkv::sim
