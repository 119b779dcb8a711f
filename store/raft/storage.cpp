#include "store/raft/storage.hpp"

#include <algorithm>

namespace dkv::raft {

void install_snapshot(durable_state& state, const snapshot& s) {
  if (state.latest_snapshot && s.meta.index <= state.latest_snapshot->meta.index) return;
  auto& log = state.entries;
  const auto covered = std::find_if(log.begin(), log.end(), [&](const entry& e) { return e.index > s.meta.index; });
  const bool agrees =
      covered != log.begin() && std::prev(covered)->index == s.meta.index && std::prev(covered)->term == s.meta.term;
  if (agrees)
    log.erase(log.begin(), covered);
  else
    log.clear();
  state.latest_snapshot = s;
}

bool append_entries(std::vector<entry>& log, const std::vector<entry>& batch) {
  if (batch.empty()) return true;
  const index_t from = batch.front().index;
  if (!log.empty() && from > log.back().index + 1) return false;
  // Entries are consecutive: the first one to replace is found by offset.
  if (!log.empty() && from <= log.back().index) log.resize(from > log.front().index ? from - log.front().index : 0);
  log.insert(log.end(), batch.begin(), batch.end());
  return true;
}

error memory_storage::persist(const ready& work) {
  if (work.snapshot) install_snapshot(state_, *work.snapshot);
  append_entries(state_.entries, work.entries);
  if (work.state) state_.state = *work.state;
  if (!work.lost.empty()) state_.needs_repair = true;
  if (work.identity) state_.identity = *work.identity;
  return {};
}

void memory_storage::damage(index_t keep) {
  std::erase_if(state_.entries, [&](const entry& e) { return e.index > keep; });
  state_.state.vote = no_node;
  state_.state.commit = std::min(state_.state.commit, keep);
  state_.needs_repair = true;
}

error memory_storage::save_snapshot(const snapshot& taken) {
  install_snapshot(state_, taken);
  return {};
}

}  // namespace dkv::raft
