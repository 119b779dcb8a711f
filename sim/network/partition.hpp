#pragma once
// Who can reach whom on the simulated network: a set of cut directed links.
// Every partition shape of a real network is a set of cuts — symmetric groups,
// one-way links, an isolated node, a "bridge" node that both sides still see.

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dkv::sim {

using node_id = std::uint32_t;

class partition {
 public:
  bool blocked(node_id from, node_id to) const { return cut_.count({from, to}) != 0; }
  bool whole() const noexcept { return cut_.empty(); }

  // Nodes in different groups cannot reach each other, in either direction.
  // Nodes in no group are unaffected.
  void split(const std::vector<std::vector<node_id>>& groups);
  // `from` can no longer reach `to`; the other direction is unaffected.
  void cut_one_way(node_id from, node_id to) { cut_.insert({from, to}); }
  // `node` can neither reach nor be reached by any of `others`.
  void isolate(node_id node, const std::vector<node_id>& others);
  // `left` and `right` are split, and `bridge` still reaches both sides.
  void bridge(node_id bridge, const std::vector<node_id>& left, const std::vector<node_id>& right);
  void heal() { cut_.clear(); }

  // "1->2 1->3 …", in order: for traces and histories.
  std::string describe() const;
  const std::set<std::pair<node_id, node_id>>& cuts() const noexcept { return cut_; }

 private:
  std::set<std::pair<node_id, node_id>> cut_;
};

}  // namespace dkv::sim
