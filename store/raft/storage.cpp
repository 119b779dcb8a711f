#include "store/raft/storage.hpp"

#include <algorithm>

namespace dkv::raft {

void memory_storage::install(const snapshot& s) {
  if (state_.latest_snapshot && s.meta.index <= state_.latest_snapshot->meta.index) return;
  auto& log = state_.entries;
  const auto covered = std::find_if(log.begin(), log.end(), [&](const entry& e) { return e.index > s.meta.index; });
  const bool agrees = covered != log.begin() && std::prev(covered)->index == s.meta.index &&
                      std::prev(covered)->term == s.meta.term;
  if (agrees)
    log.erase(log.begin(), covered);
  else
    log.clear();
  state_.latest_snapshot = s;
}

void memory_storage::persist(const ready& work) {
  if (work.snapshot) install(*work.snapshot);
  if (work.state) state_.state = *work.state;
  if (work.entries.empty()) return;
  auto& log = state_.entries;
  const index_t from = work.entries.front().index;
  // Entries are consecutive: the first one to replace is found by offset.
  if (!log.empty() && from <= log.back().index)
    log.resize(from > log.front().index ? from - log.front().index : 0);
  log.insert(log.end(), work.entries.begin(), work.entries.end());
}

void memory_storage::save_snapshot(const snapshot& taken) { install(taken); }

}  // namespace dkv::raft
