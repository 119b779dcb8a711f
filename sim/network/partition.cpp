#include "sim/network/partition.hpp"

namespace dkv::sim {

void partition::split(const std::vector<std::vector<node_id>>& groups) {
  for (std::size_t a = 0; a < groups.size(); ++a)
    for (std::size_t b = 0; b < groups.size(); ++b)
      if (a != b)
        for (node_id from : groups[a])
          for (node_id to : groups[b]) cut_.insert({from, to});
}

void partition::isolate(node_id node, const std::vector<node_id>& others) {
  for (node_id other : others) {
    if (other == node) continue;
    cut_.insert({node, other});
    cut_.insert({other, node});
  }
}

void partition::bridge(node_id bridge, const std::vector<node_id>& left, const std::vector<node_id>& right) {
  split({left, right});
  for (auto it = cut_.begin(); it != cut_.end();)
    it = (it->first == bridge || it->second == bridge) ? cut_.erase(it) : std::next(it);
}

std::string partition::describe() const {
  std::string out;
  for (const auto& [from, to] : cut_) {
    if (!out.empty()) out += ' ';
    out += std::to_string(from) + "->" + std::to_string(to);
  }
  return out.empty() ? "whole" : out;
}

}  // namespace dkv::sim
