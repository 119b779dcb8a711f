#include "check/linearizability/gap_search.hpp"

#include <algorithm>
#include <unordered_set>

#include <xxhash.h>

namespace dkv::check {

namespace {

struct configuration {
  std::size_t pos, gap;
  std::vector<std::uint64_t> used;
  std::vector<dkv_entry> store;
  bool operator==(const configuration&) const = default;
};

struct configuration_hash {
  std::size_t operator()(const configuration& c) const noexcept {
    std::uint64_t h = XXH3_64bits_withSeed(c.used.data(), c.used.size() * 8, c.pos * 1000003 + c.gap);
    for (const auto& e : c.store) {
      h = XXH3_64bits_withSeed(e.value.data(), e.value.size(), h + e.exists);
      h ^= e.expire_at * 0x9e3779b97f4a7c15ULL + e.delete_at * 0xc2b2ae3d27d4eb4fULL;
    }
    return h;
  }
};

class searcher {
 public:
  searcher(const std::vector<gap_search_step>& steps, const std::vector<key_info_write>& infos, const gap_table& gaps,
           std::size_t key_count, const check_budget& budget)
      : steps_(steps),
        infos_(infos),
        gaps_(gaps),
        budget_(budget),
        store_(key_count),
        used_((infos.size() + 63) / 64, 0) {}

  gap_search_result run() {
    gap_search_result out;
    const bool found = search(0, 0);
    if (search_verdict(found, stopped_, counted_, budget_, out.result) == verdict::not_linearizable) {
      if (deepest_ < steps_.size()) {
        for (std::size_t i = 0; i < deepest_; ++i) out.result.longest_prefix.push_back(steps_[i].id);
        out.result.stuck = steps_[deepest_].id;
        out.result.has_stuck = true;
      }
    }
    return out;
  }

 private:
  bool search(std::size_t pos, std::size_t gap) {
    // Undo log for the operations applied in this frame before its branch point.
    std::vector<std::pair<std::uint32_t, dkv_entry>> undo;
    auto rollback = [&] {
      for (auto it = undo.rbegin(); it != undo.rend(); ++it) store_[it->first] = std::move(it->second);
    };
    for (;;) {
      if (++counted_ > budget_.max_steps || ((counted_ & 4095) == 0 && budget_.stopped())) stopped_ = true;
      if (stopped_) {
        rollback();
        return false;
      }
      const bool gap_next =
          gap < gaps_.index.size() &&
          (pos == steps_.size() || gaps_.index[gap] < steps_[pos].index + (is_write(steps_[pos].op.kind) ? 0 : 1));
      if (!gap_next && pos == steps_.size()) return true;
      if (!gap_next) {
        const gap_search_step& s = steps_[pos];
        dkv_entry& entry = store_[s.op.key];
        if (!is_write(s.op.kind)) {
          if (!read_matches(entry, s.op, s.index)) {
            deepest_ = std::max(deepest_, pos);
            rollback();
            return false;
          }
        } else {
          undo.emplace_back(s.op.key, entry);
          if (apply_write(entry, s.op, s.index) != s.op.found && s.op.kind == operation_kind::remove_if_value) {
            deepest_ = std::max(deepest_, pos);
            rollback();
            return false;
          }
        }
        ++pos;
        continue;
      }
      // A gap: some unused info write invoked in time took it.
      configuration c{pos, gap, used_, store_};
      if (failed_.count(c)) {
        rollback();
        return false;
      }
      const std::uint64_t g = gaps_.index[gap];
      const auto eligible = static_cast<std::size_t>(
          std::upper_bound(infos_.begin(), infos_.end(), gaps_.deadline[gap],
                           [](std::uint64_t t, const key_info_write& w) { return t < w.call_ns; }) -
          infos_.begin());
      for (std::size_t u = eligible; u-- > 0;) {  // latest invoked first: early ones stay free for early gaps
        if ((used_[u / 64] >> (u % 64)) & 1) continue;
        const std::uint32_t key = infos_[u].op.key;
        dkv_entry saved = store_[key];
        apply_write(store_[key], infos_[u].op, g);
        used_[u / 64] |= std::uint64_t{1} << (u % 64);
        if (search(pos, gap + 1)) return true;
        used_[u / 64] &= ~(std::uint64_t{1} << (u % 64));
        store_[key] = std::move(saved);
        if (stopped_) break;
      }
      if (!stopped_) failed_.insert(std::move(c));
      rollback();
      return false;
    }
  }

  const std::vector<gap_search_step>& steps_;
  const std::vector<key_info_write>& infos_;
  const gap_table& gaps_;
  const check_budget& budget_;
  std::vector<dkv_entry> store_;
  std::vector<std::uint64_t> used_;
  std::unordered_set<configuration, configuration_hash> failed_;
  std::size_t deepest_ = 0;
  std::uint64_t counted_ = 0;
  bool stopped_ = false;
};

}  // namespace

gap_search_result search_gaps(const std::vector<gap_search_step>& steps, const std::vector<key_info_write>& infos,
                              const gap_table& gaps, std::size_t key_count, const check_budget& budget) {
  return searcher(steps, infos, gaps, key_count, budget).run();
}

}  // namespace dkv::check
