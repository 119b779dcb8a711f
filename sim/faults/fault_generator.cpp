#include "sim/faults/fault_generator.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace dkv::sim {

namespace {

enum class pick { partition, crash, pause, clock, damage, membership, lose, cut };

fault on(fault_kind kind, node_id node = 0, node_id other = 0) {
  fault f;
  f.kind = kind;
  f.node = node;
  f.other = other;
  return f;
}

fault with_groups(fault f, std::vector<std::vector<node_id>> groups) {
  f.groups = std::move(groups);
  return f;
}

class generator {
 public:
  generator(dkv::rng& random, const std::vector<node_id>& nodes, const fault_options& options)
      : random_(random), nodes_(nodes), options_(options) {}

  std::vector<timed_fault> run() {
    if (nodes_.empty() || options_.stop_ns <= options_.start_ns) return {};
    const std::uint64_t gap = std::max<std::uint64_t>(1, options_.mean_gap_ns);
    for (std::uint64_t t = options_.start_ns;;) {
      t += random_.between(gap / 2, gap + gap / 2);
      if (t >= options_.stop_ns) break;
      const std::uint64_t end =
          std::min(options_.stop_ns, t + random_.between(options_.min_duration_ns, options_.max_duration_ns));
      std::vector<std::pair<pick, unsigned>> choices;
      const auto& w = options_.weights;
      if (t >= partitioned_until_ && nodes_.size() > 1 && any_shape())
        choices.emplace_back(pick::partition, w.partition);
      if (down_at(t) < options_.max_down && !up_at(t).empty()) {
        choices.emplace_back(pick::crash, w.crash);
        choices.emplace_back(pick::pause, w.pause);
        if (damaged_.size() < options_.max_damaged) choices.emplace_back(pick::damage, w.damage);
      }
      choices.emplace_back(pick::clock, w.clock);
      // Last, so that a weight of 0 leaves every other draw as it was.
      if (t >= changing_until_ && nodes_.size() >= 3) choices.emplace_back(pick::membership, w.membership);
      // Not with servers removed and added back: a lost disk (or log) while only two
      // voters remain is a fault a cluster of 2f+1 cannot survive (it stays
      // unavailable, rightly, until an operator acts).
      if (down_at(t) < options_.max_down && !up_at(t).empty() && damaged_.size() < options_.max_damaged &&
          w.membership == 0) {
        choices.emplace_back(pick::lose, w.lose);
        choices.emplace_back(pick::cut, w.cut);
      }
      if (const auto chosen = choose(choices)) add(*chosen, t, end);
    }
    std::stable_sort(events_.begin(), events_.end(),
                     [](const timed_fault& a, const timed_fault& b) { return a.time_ns < b.time_ns; });
    return std::move(events_);
  }

 private:
  template <class T>
  std::optional<T> choose(const std::vector<std::pair<T, unsigned>>& choices) {
    unsigned total = 0;
    for (const auto& [what, weight] : choices) total += weight;
    if (total == 0) return std::nullopt;
    auto roll = static_cast<unsigned>(random_.below(total));
    for (const auto& [what, weight] : choices) {
      if (roll < weight) return what;
      roll -= weight;
    }
    return std::nullopt;
  }

  bool any_shape() const {
    const partition_shapes& s = options_.shapes;
    return s.split + s.one_way + s.isolate + (nodes_.size() >= 3 ? s.bridge : 0) > 0;
  }

  std::size_t down_at(std::uint64_t t) const {
    return static_cast<std::size_t>(
        std::count_if(down_until_.begin(), down_until_.end(), [&](const auto& entry) { return entry.second > t; }));
  }

  std::vector<node_id> up_at(std::uint64_t t) const {
    std::vector<node_id> up;
    for (node_id n : nodes_)
      if (const auto it = down_until_.find(n); it == down_until_.end() || it->second <= t) up.push_back(n);
    return up;
  }

  node_id any_of(const std::vector<node_id>& candidates) { return candidates[random_.below(candidates.size())]; }

  void emit(std::uint64_t t, fault f) { events_.push_back({t, std::move(f)}); }

  void add(pick what, std::uint64_t t, std::uint64_t end) {
    switch (what) {
      case pick::partition:
        emit(t, random_partition());
        emit(end, on(fault_kind::heal));
        partitioned_until_ = end;
        break;
      case pick::crash:
      case pick::damage:
      case pick::lose:
      case pick::cut: {
        const node_id n = any_of(up_at(t));
        emit(t, on(fault_kind::crash, n));
        if (what != pick::crash) {
          emit(t, on(what == pick::damage ? fault_kind::damage_disk
                     : what == pick::lose ? fault_kind::lose_disk
                                          : fault_kind::cut_log,
                     n));
          damaged_.insert(n);
        }
        emit(end, on(fault_kind::restart, n));
        down_until_[n] = end;
        break;
      }
      case pick::pause: {
        const node_id n = any_of(up_at(t));
        emit(t, on(fault_kind::pause, n));
        emit(end, on(fault_kind::resume, n));
        down_until_[n] = end;
        break;
      }
      case pick::clock: {
        fault f = on(fault_kind::clock, any_of(nodes_));
        const auto skew = static_cast<std::uint64_t>(options_.max_skew_ns);
        const auto drift = static_cast<std::uint64_t>(options_.max_drift_ppm);
        f.clock.skew_ns = static_cast<std::int64_t>(random_.below(2 * skew + 1)) - options_.max_skew_ns;
        f.clock.drift_ppm = static_cast<std::int32_t>(random_.below(2 * drift + 1)) - options_.max_drift_ppm;
        emit(t, f);
        break;
      }
      case pick::membership: {
        // A server removed and added back: it rejoins as a learner, catches
        // up on what it missed, and votes again.
        const node_id n = any_of(nodes_);
        emit(t, on(fault_kind::remove_server, n));
        emit(end, on(fault_kind::add_server, n));
        changing_until_ = end;
        break;
      }
    }
  }

  fault random_partition() {
    std::vector<node_id> shuffled = nodes_;
    for (std::size_t i = shuffled.size(); i > 1; --i) std::swap(shuffled[i - 1], shuffled[random_.below(i)]);
    const partition_shapes& w = options_.shapes;
    std::vector<std::pair<fault_kind, unsigned>> shapes{
        {fault_kind::split, w.split}, {fault_kind::one_way, w.one_way}, {fault_kind::isolate, w.isolate}};
    if (nodes_.size() >= 3) shapes.emplace_back(fault_kind::bridge, w.bridge);
    switch (choose(shapes).value_or(fault_kind::split)) {
      case fault_kind::split: {
        const std::size_t cut = 1 + random_.below(shuffled.size() - 1);
        const auto middle = shuffled.begin() + static_cast<std::ptrdiff_t>(cut);
        return with_groups(on(fault_kind::split), {{shuffled.begin(), middle}, {middle, shuffled.end()}});
      }
      case fault_kind::one_way: return on(fault_kind::one_way, shuffled[0], shuffled[1]);
      case fault_kind::isolate: return on(fault_kind::isolate, shuffled[0]);
      default: {
        const std::size_t cut = 1 + random_.below(shuffled.size() - 2);  // both sides non-empty
        const auto middle = shuffled.begin() + 1 + static_cast<std::ptrdiff_t>(cut);
        return with_groups(on(fault_kind::bridge, shuffled[0]),
                           {{shuffled.begin() + 1, middle}, {middle, shuffled.end()}});
      }
    }
  }

  dkv::rng& random_;
  const std::vector<node_id>& nodes_;
  const fault_options& options_;
  std::vector<timed_fault> events_;
  std::map<node_id, std::uint64_t> down_until_;
  std::set<node_id> damaged_;
  std::uint64_t partitioned_until_ = 0;
  std::uint64_t changing_until_ = 0;  // one membership change at a time
};

}  // namespace

std::vector<timed_fault> generate_faults(dkv::rng& random, const std::vector<node_id>& nodes,
                                         const fault_options& options) {
  return generator(random, nodes, options).run();
}

}  // namespace dkv::sim
