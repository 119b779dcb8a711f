#include "check/linearizability/key_timeline.hpp"

#include <algorithm>

namespace dkv::check {

namespace {

// Replays step `s` (operation `op`) on `entry`: false if the outcome the
// history recorded for it — a read's result, DeleteIfValue's "deleted" —
// no longer holds.
bool replay(dkv_entry& entry, const dkv_op& op, const key_timeline::step& s) {
  if (s.read) return read_matches(entry, op, s.index);
  return apply_write(entry, op, s.index) == op.found || !op.known || op.kind != operation_kind::remove_if_value;
}

}  // namespace

void key_timeline::build(const history& h, const dkv_view& c, std::size_t key, const placements& placed,
                         const gap_table& gaps) {
  steps_.clear();
  for (std::size_t id : c.ops_by_key[key])
    if (h.operations[id].result == outcome::ok)
      steps_.push_back({*h.operations[id].index, !is_write(c.ops[id].kind), id});
  for (const auto& [g, id] : placed) steps_.push_back({gaps.index[g], false, id});
  std::sort(steps_.begin(), steps_.end(),
            [](const step& a, const step& b) { return a.index != b.index ? a.index < b.index : a.read < b.read; });
  before_.assign(1, dkv_entry{});
  dkv_entry entry;
  for (const step& s : steps_) {
    if (!s.read) apply_write(entry, c.ops[s.id], s.index);
    before_.push_back(entry);
  }
}

std::size_t key_timeline::first_at_or_after(std::uint64_t index) const {
  return static_cast<std::size_t>(std::lower_bound(steps_.begin(), steps_.end(), index,
                                                   [](const step& s, std::uint64_t i) { return s.index < i; }) -
                                  steps_.begin());
}

void key_timeline::add(const dkv_view& c, std::size_t id, std::uint64_t at) {
  const std::size_t p = first_at_or_after(at);
  steps_.insert(steps_.begin() + static_cast<std::ptrdiff_t>(p), step{at, false, id});
  dkv_entry entry = before_[p];
  apply_write(entry, c.ops[id], at);
  before_.insert(before_.begin() + static_cast<std::ptrdiff_t>(p) + 1, entry);
  for (std::size_t q = p + 1; q < steps_.size(); ++q) {  // before_[q + 1]: the state without it
    if (!steps_[q].read) apply_write(entry, c.ops[steps_[q].id], steps_[q].index);
    if (entry == before_[q + 1]) break;
    before_[q + 1] = entry;
  }
}

bool key_timeline::accepts(const dkv_view& c, const dkv_op& extra, std::uint64_t at) const {
  std::size_t p = first_at_or_after(at);
  dkv_entry entry = before_[p];
  apply_write(entry, extra, at);
  for (; p < steps_.size(); ++p) {
    if (entry == before_[p]) return true;  // back on the recorded track
    if (!replay(entry, c.ops[steps_[p].id], steps_[p])) return false;
  }
  return true;
}

bool key_timeline::consistent(const dkv_view& c) const {
  dkv_entry entry;
  for (const step& s : steps_)
    if (!replay(entry, c.ops[s.id], s)) return false;
  return true;
}

}  // namespace dkv::check
