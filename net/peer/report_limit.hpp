#pragma once
// A complaint said once per source, not once per connection: a refused
// peer reconnects every second for as long as it runs, and a line per
// attempt would bury everything else in the log. The first time a source
// (a key such as "in 127.0.0.1 member 2 other_cluster 1a2b…") is seen it is
// reported; after that only again once `again_after` has passed, with how
// many times it was held back meanwhile, so that the reason is still in a
// recent stretch of the log for whoever looks later. At most `max_sources`
// are remembered: past that the memory starts afresh (a source may then be
// reported again sooner, never more often than it connects).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace dkv::net {

class report_limit {
 public:
  static constexpr std::chrono::minutes again_after{10};
  static constexpr std::size_t max_sources = 1024;

  // Whether to report `key` at `now`; if so, `held_back` is how many times
  // it was not reported since the last time.
  bool admit(const std::string& key, std::chrono::steady_clock::time_point now, std::uint64_t& held_back) {
    auto it = sources_.find(key);
    if (it == sources_.end()) {
      if (sources_.size() >= max_sources) sources_.clear();
      sources_.emplace(key, source{now, 0});
      held_back = 0;
      return true;
    }
    if (now - it->second.reported < again_after) {
      ++it->second.held_back;
      return false;
    }
    held_back = it->second.held_back;
    it->second = {now, 0};
    return true;
  }

 private:
  struct source {
    std::chrono::steady_clock::time_point reported;
    std::uint64_t held_back = 0;
  };
  std::map<std::string, source> sources_;
};

}  // namespace dkv::net
