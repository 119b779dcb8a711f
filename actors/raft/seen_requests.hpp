#pragma once
// The client requests a node has recently taken, by (client, request id):
// a copy that the network duplicated is recognized and ignored. Bounded: the
// oldest are forgotten first. Duplicates arrive within the network's
// latency, far inside the window.

#include <cstdint>
#include <deque>
#include <unordered_set>
#include <utility>

namespace dkv::actors {

class seen_requests {
 public:
  explicit seen_requests(std::size_t capacity = 16384) : capacity_(capacity) {}

  // True the first time a request is seen.
  bool first_time(std::uint64_t client, std::uint64_t request) {
    const key k{client, request};
    if (!set_.insert(k).second) return false;
    order_.push_back(k);
    if (order_.size() > capacity_) {
      set_.erase(order_.front());
      order_.pop_front();
    }
    return true;
  }

 private:
  using key = std::pair<std::uint64_t, std::uint64_t>;
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept { return k.first * 0x9e3779b97f4a7c15ULL ^ k.second; }
  };
  std::size_t capacity_;
  std::unordered_set<key, key_hash> set_;  // membership only: never iterated
  std::deque<key> order_;
};

}  // namespace dkv::actors
