#include "check/linearizability/dkv_check.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "check/linearizability/dkv_model.hpp"
#include "check/linearizability/dkv_view.hpp"
#include "check/linearizability/gap_assignment.hpp"
#include "check/linearizability/gap_search.hpp"
#include "check/linearizability/key_search.hpp"
#include "check/linearizability/parts.hpp"
#include "check/linearizability/wgl.hpp"

namespace dkv::check {

namespace {

// Histories without indexes: one WGL search over the whole store.
void check_unsplit(const history& h, const dkv_view& c, const check_options& options, check_report& report) {
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
}

// The index witness check of dkv_check.hpp, one phase per member; a phase
// that finds a violation writes it into the report and returns false.
class index_witness_check {
 public:
  index_witness_check(const history& h, const dkv_view& c, const check_options& options, check_report& report)
      : h_(h),
        c_(c),
        options_(options),
        report_(report),
        key_count_(c.keys.size()),
        used_(key_count_),
        may_act_after_(key_count_) {}

  void run() {
    if (!unique_write_indexes() || !index_order_agrees_with_real_time() || !every_gap_explainable() ||
        !every_value_written())
      return;
    search_keys();
    if (!failing_ && !unknown_ && !reconcile_keys()) {
      search_all_gaps();
      return;
    }
    report_failing_key();
  }

 private:
  // An ok operation at its index, in index order (writes before reads at one index).
  struct positioned {
    std::uint64_t index;
    bool read;
    std::uint64_t call, ret;
    std::size_t id;
  };

  bool violation(std::vector<std::size_t> ops, std::string why) {
    report_.result = verdict::not_linearizable;
    report_.part = ops.empty() ? "" : h_.operations[ops.front()].key;
    report_.part_ops = std::move(ops);
    report_.explanation = std::move(why);
    return false;
  }

  // 1. Unique write indexes.
  bool unique_write_indexes() {
    for (std::size_t id = 0; id < h_.operations.size(); ++id) {
      const operation& o = h_.operations[id];
      if (o.result != outcome::ok) continue;
      highest_ = std::max(highest_, *o.index);
      if (!is_write(c_.ops[id].kind)) continue;
      if (*o.index == 0) return violation({id}, describe(h_, id) + ": a write cannot have index 0");
      const auto [it, fresh] = writer_.emplace(*o.index, id);
      if (!fresh)
        return violation({it->second, id}, "index " + std::to_string(*o.index) + " is used by two writes, " +
                                               describe(h_, it->second) + " and " + describe(h_, id) +
                                               ": a duplicated write");
    }
    return true;
  }

  // 2. Index order agrees with real time: non-decreasing points inside each interval.
  bool index_order_agrees_with_real_time() {
    for (std::size_t id = 0; id < h_.operations.size(); ++id) {
      const operation& o = h_.operations[id];
      if (o.result == outcome::ok) order_.push_back({*o.index, !is_write(c_.ops[id].kind), o.call_ns, o.return_ns, id});
    }
    std::sort(order_.begin(), order_.end(), [](const positioned& a, const positioned& b) {
      if (a.index != b.index) return a.index < b.index;
      if (a.read != b.read) return !a.read;
      return a.call < b.call;
    });
    std::uint64_t point = 0;
    std::size_t latest_call = 0;
    for (std::size_t k = 0; k < order_.size(); ++k) {
      if (order_[k].call > point) {
        point = order_[k].call;
        latest_call = k;
      }
      if (point > order_[k].ret)
        return violation({order_[k].id, order_[latest_call].id}, describe(h_, order_[k].id) + " returned before " +
                                                                     describe(h_, order_[latest_call].id) +
                                                                     " was invoked, yet comes after it in index order");
    }
    return true;
  }

  // 3. Every index up to the highest is explained: gaps need info writes invoked in time.
  bool every_gap_explainable() {
    std::vector<std::uint64_t> suffix_min(order_.size() + 1, never);
    for (std::size_t k = order_.size(); k-- > 0;) suffix_min[k] = std::min(suffix_min[k + 1], order_[k].ret);
    std::size_t k = 0;
    for (std::uint64_t g = 1; g <= highest_; ++g) {
      if (writer_.count(g)) continue;
      while (k < order_.size() && order_[k].index < g) ++k;
      gaps_.index.push_back(g);
      gaps_.deadline.push_back(suffix_min[k]);
    }
    gaps_.taken.assign(gaps_.index.size(), false);

    for (std::size_t id = 0; id < h_.operations.size(); ++id)
      if (h_.operations[id].result == outcome::info && is_write(c_.ops[id].kind)) info_writes_.push_back(id);
    std::sort(info_writes_.begin(), info_writes_.end(),
              [&](std::size_t a, std::size_t b) { return h_.operations[a].call_ns < h_.operations[b].call_ns; });
    for (std::size_t g = 0, eligible = 0; g < gaps_.index.size(); ++g) {
      // Deadlines do not decrease, so the writes eligible for a gap only grow: count them.
      while (eligible < info_writes_.size() && h_.operations[info_writes_[eligible]].call_ns <= gaps_.deadline[g])
        ++eligible;
      if (eligible < g + 1)
        return violation({}, "index " + std::to_string(gaps_.index[g]) +
                                 " was taken by a write that no operation of the history can account for: a lost or "
                                 "phantom write");
    }
    return true;
  }

  // A read can only return a value some write to its key carried, invoked
  // before the read returned — a cheap necessary condition that names a
  // phantom value at once instead of after an exhaustive search.
  bool every_value_written() {
    std::map<std::pair<std::uint32_t, std::string>, std::uint64_t> first_written;  // (key, value) -> earliest call
    for (std::size_t id = 0; id < h_.operations.size(); ++id) {
      const dkv_op& op = c_.ops[id];
      if (h_.operations[id].result == outcome::fail) continue;
      if (op.kind != operation_kind::set && op.kind != operation_kind::set_e &&
          op.kind != operation_kind::set_e_if_unset)
        continue;
      auto [it, fresh] = first_written.try_emplace({op.key, op.value}, h_.operations[id].call_ns);
      if (!fresh) it->second = std::min(it->second, h_.operations[id].call_ns);
    }
    for (std::size_t id = 0; id < h_.operations.size(); ++id) {
      const operation& o = h_.operations[id];
      if (o.result != outcome::ok || c_.ops[id].kind != operation_kind::get || !o.found) continue;
      const auto it = first_written.find({c_.ops[id].key, c_.ops[id].value});
      if (it == first_written.end() || it->second > o.return_ns) {
        violation(c_.ops_by_key[c_.ops[id].key],
                  describe(h_, id) + " returned a value that no write to its key, invoked before it returned, wrote");
        report_.stuck = id;
        return false;
      }
    }
    return true;
  }

  // 4. Each key's reads against its writes in index order (info writes searched), in parallel.
  void search_keys() {
    key_steps_.resize(key_count_);
    key_infos_.resize(key_count_);
    for (const positioned& p : order_) key_steps_[c_.ops[p.id].key].push_back({p.id, c_.ops[p.id], p.index});
    for (std::size_t id : info_writes_)
      key_infos_[c_.ops[id].key].push_back({id, c_.ops[id], h_.operations[id].call_ns});
    report_.partitions = key_count_;
    key_results_ = check_parts(
        key_count_, options_.threads, [&](std::size_t key, const check_budget& b) { return search_one_key(key, b); },
        options_.budget);
    for (std::size_t key = 0; key < key_count_; ++key) {
      report_.steps += key_results_[key].steps;
      if (key_results_[key].result == verdict::not_linearizable && !failing_) failing_ = key;
      if (key_results_[key].result == verdict::unknown && !unknown_) unknown_ = key;
    }
  }

  partition_result search_one_key(std::size_t key, const check_budget& budget) {
    key_search_result r = search_key(key_steps_[key], key_infos_[key], gaps_, budget);
    used_[key] = std::move(r.placed);
    may_act_after_[key] = std::move(r.may_act_after);
    return r.result;
  }

  // Keys searched independently may have put info writes into the same gap;
  // the assignment moves them apart within their ranges.
  bool assigned(assignment_failure& why) {
    if (std::vector<placements> attempt = used_;
        assign_gaps(h_, c_, gaps_, attempt, info_writes_, may_act_after_, why)) {
      used_ = std::move(attempt);
      return true;
    }
    return false;
  }

  // Whether the keys' searches, searched again where they compete, fit together.
  bool reconcile_keys() {
    if (assigned_in_groups()) return true;
    assignment_failure ignored;
    return search_one_after_another() && assigned(ignored);
  }

  // Searches the keys `members` as one, where each gap serves one of them,
  // without the excluded info writes; on success their placements replace
  // what their own searches found.
  bool search_group(const std::vector<std::size_t>& members) {
    std::vector<bool> member(key_count_, false);
    for (std::size_t key : members) member[key] = true;
    std::vector<key_step> steps;
    for (const positioned& p : order_)
      if (member[c_.ops[p.id].key]) steps.push_back({p.id, c_.ops[p.id], p.index});
    std::vector<key_info_write> infos;
    for (std::size_t id : info_writes_)
      if (member[c_.ops[id].key] && !excluded_.count(id)) infos.push_back({id, c_.ops[id], h_.operations[id].call_ns});
    check_budget group_budget = options_.budget;
    group_budget.max_steps = std::min<std::uint64_t>(options_.budget.max_steps, 2'000'000);
    const key_search_result r = search_key(steps, infos, gaps_, group_budget);
    report_.steps += r.result.steps;
    if (r.result.result != verdict::linearizable) return false;
    for (std::size_t key : members) {
      used_[key].clear();
      may_act_after_[key].clear();
    }
    for (const auto& placement : r.placed) used_[c_.ops[placement.second].key].push_back(placement);
    for (const auto& [id, after] : r.may_act_after) may_act_after_[c_.ops[id].key][id] = after;
    return true;
  }

  // If the assignment fails, the keys whose needs compete for too few gaps
  // are searched again as one group (a key may then choose another write, or
  // fewer), and assigned again; a group grows as more keys join a
  // contention, so this ends within key_count rounds. An early gap that no
  // write may take makes a key (its group) search again without one of the
  // early writes it needed — a few times at most, as each such search may
  // spend the group budget.
  bool assigned_in_groups() {
    std::vector<std::size_t> group(key_count_);  // each key's group, named by a member
    for (std::size_t key = 0; key < key_count_; ++key) group[key] = key;
    auto members_of = [&](std::size_t named) {
      std::vector<std::size_t> members;
      for (std::size_t key = 0; key < key_count_; ++key)
        if (group[key] == named) members.push_back(key);
      return members;
    };
    std::size_t exclusions_tried = 0;
    for (;;) {
      assignment_failure why;
      if (assigned(why)) return true;
      if (!why.blocking.empty()) {
        bool freed = false;
        for (std::size_t k = 0; k < why.blocking.size() && exclusions_tried < 8 && !freed; ++k) {
          const std::size_t id = why.blocking[k];
          ++exclusions_tried;
          excluded_.insert(id);
          freed = search_group(members_of(group[c_.ops[id].key]));
          if (!freed) excluded_.erase(id);
        }
        if (!freed) return false;
        continue;
      }
      std::set<std::size_t> involved;
      for (std::size_t key : why.contended) involved.insert(group[key]);
      if (involved.size() < 2) return false;  // already searched as one: nothing new to try
      std::vector<std::size_t> members;
      for (std::size_t key = 0; key < key_count_; ++key)
        if (involved.count(group[key])) {
          group[key] = *involved.begin();
          members.push_back(key);
        }
      if (!search_group(members)) return false;
    }
  }

  // Failing that, search the keys again one after another, each leaving the
  // gaps taken before it (a key that cannot do without one moves to the
  // front, a few times, with small budgets).
  bool search_one_after_another() {
    std::vector<std::size_t> keys_in_order(key_count_);
    for (std::size_t key = 0; key < key_count_; ++key) keys_in_order[key] = key;
    check_budget retry_budget = options_.budget;
    retry_budget.max_steps = std::min<std::uint64_t>(options_.budget.max_steps, 1'000'000);
    bool separated = false;
    for (std::size_t attempt = 0; attempt < std::min<std::size_t>(key_count_, 4) && !separated; ++attempt) {
      std::fill(gaps_.taken.begin(), gaps_.taken.end(), false);
      separated = true;
      for (std::size_t k = 0; k < key_count_ && separated; ++k) {
        const std::size_t key = keys_in_order[k];
        if (search_one_key(key, retry_budget).result != verdict::linearizable) {
          std::rotate(keys_in_order.begin(), keys_in_order.begin() + static_cast<std::ptrdiff_t>(k),
                      keys_in_order.begin() + static_cast<std::ptrdiff_t>(k) + 1);
          separated = false;
        }
        for (const auto& placement : used_[key]) gaps_.taken[placement.first] = true;
      }
    }
    std::fill(gaps_.taken.begin(), gaps_.taken.end(), false);
    return separated;
  }

  // No arrangement built from the per-key searches explains every gap
  // (another might): search all gaps at once, in index order.
  void search_all_gaps() {
    std::vector<gap_search_step> steps;
    for (const positioned& p : order_) steps.push_back({p.id, c_.ops[p.id], p.index});
    std::vector<key_info_write> infos;
    for (std::size_t id : info_writes_) infos.push_back({id, c_.ops[id], h_.operations[id].call_ns});
    std::fill(gaps_.taken.begin(), gaps_.taken.end(), false);
    const gap_search_result whole = search_gaps(steps, infos, gaps_, key_count_, options_.budget);
    report_.steps += whole.result.steps;
    report_.result = whole.result.result;
    if (whole.result.result == verdict::unknown)
      report_.explanation = "the info writes could not be fitted into the index gaps within the budget";
    if (whole.result.result == verdict::not_linearizable) {
      report_.explanation = "no choice of info writes for the index gaps explains every read";
      report_.longest_prefix = whole.result.longest_prefix;
      if (whole.result.has_stuck) {
        report_.stuck = whole.result.stuck;
        report_.part = h_.operations[whole.result.stuck].key;
      }
    }
  }

  // The lowest key whose search failed, else the lowest undecided one.
  void report_failing_key() {
    const auto chosen = failing_ ? failing_ : unknown_;
    if (!chosen) return;
    const partition_result& r = key_results_[*chosen];
    report_.result = failing_ ? verdict::not_linearizable : verdict::unknown;
    report_.part = c_.keys[*chosen];
    report_.part_ops = c_.ops_by_key[*chosen];
    report_.longest_prefix = r.longest_prefix;
    if (r.has_stuck) report_.stuck = r.stuck;
    if (failing_ && r.has_stuck)
      report_.explanation = describe(h_, r.stuck) + " cannot be placed: no state of key '" + c_.keys[*chosen] +
                            "' at its index explains its result";
  }

  const history& h_;
  const dkv_view& c_;
  const check_options& options_;
  check_report& report_;
  const std::size_t key_count_;

  std::map<std::uint64_t, std::size_t> writer_;  // write index -> history id
  std::uint64_t highest_ = 0;                    // the highest index of any ok result
  std::vector<positioned> order_;
  gap_table gaps_;
  std::vector<std::size_t> info_writes_;  // history ids by call time

  std::vector<std::vector<key_step>> key_steps_;
  std::vector<std::vector<key_info_write>> key_infos_;
  std::vector<partition_result> key_results_;
  std::optional<std::size_t> failing_, unknown_;
  std::vector<placements> used_;  // per key: where its info writes took effect
  std::vector<std::map<std::size_t, std::uint64_t>> may_act_after_;
  std::set<std::size_t> excluded_;  // info writes the group searches may not use
};

}  // namespace

void check_dkv_model(const history& h, const check_options& options, check_report& report) {
  const dkv_view c = make_dkv_view(h);
  if (!c.all_indexed || !options.split) return check_unsplit(h, c, options, report);
  index_witness_check(h, c, options, report).run();
}

}  // namespace dkv::check
