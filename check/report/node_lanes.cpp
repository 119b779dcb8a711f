#include "check/report/node_lanes.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace dkv::check {

namespace {

// (from, to): what `from` sends `to` is lost.
using cut_set = std::set<std::pair<std::uint32_t, std::uint32_t>>;

struct node_state {
  bool down = false, stopped = false, paused = false;
  std::string role;
  std::uint64_t term = 0;
};

// A partition replaces the one before it (docs/history.md): nodes in
// different groups cannot reach each other, and a one-way cut loses what
// `from` sends `to`.
void partition(const fault_event& f, cut_set& cuts) {
  cuts.clear();
  for (std::size_t i = 0; i < f.groups.size(); ++i)
    for (std::size_t j = 0; j < f.groups.size(); ++j)
      if (i != j)
        for (std::uint32_t a : f.groups[i])
          for (std::uint32_t b : f.groups[j]) cuts.insert({a, b});
  if (f.from != 0 && f.to != 0) cuts.insert({f.from, f.to});
}

void apply(const fault_event& f, std::map<std::uint32_t, node_state>& nodes, cut_set& cuts) {
  if (f.kind == "partition") return partition(f, cuts);
  if (f.kind == "heal") return cuts.clear();
  if (f.node == 0) return;
  node_state& s = nodes[f.node];
  // What a new process will say of its role and term is unknown until its
  // first node event; a crash also ends a pause (the process is gone).
  if (f.kind == "crash" || f.kind == "lose" || f.kind == "cut" || f.kind == "alone") {
    s = node_state{};
    s.down = true;
  } else if (f.kind == "restart") {
    s = node_state{};
  } else if (f.kind == "pause") {
    s.paused = !s.down;
  } else if (f.kind == "resume") {
    s.paused = false;
  }
}

void apply(const node_event& e, std::map<std::uint32_t, node_state>& nodes) {
  node_state& s = nodes[e.node];
  s.stopped = e.role == "stopped";
  if (!s.stopped) s.role = e.role;
  if (e.term != 0) s.term = e.term;
}

node_span span_of(std::uint32_t id, const node_state& s, const cut_set& cuts) {
  node_span span;
  span.down = s.down;
  span.stopped = s.stopped;
  span.paused = s.paused;
  span.role = s.role;
  span.term = s.term;
  std::set<std::uint32_t> to, from;
  for (const auto& [a, b] : cuts) {
    if (a == id) to.insert(b);
    if (b == id) from.insert(a);
  }
  for (std::uint32_t other : to) (from.count(other) ? span.cut_from : span.cannot_send_to).push_back(other);
  for (std::uint32_t other : from)
    if (!to.count(other)) span.cannot_hear.push_back(other);
  return span;
}

// The lane goes on in state `s` from `t`. Of several changes at one time only
// the last shows; one that returns to the state before them leaves no trace.
void extend(node_lane& lane, node_span s, std::uint64_t t) {
  node_span& last = lane.spans.back();
  if (last.same_state(s)) return;
  if (last.from_ns == t) {
    lane.spans.pop_back();
    if (!lane.spans.empty() && lane.spans.back().same_state(s)) return;
  } else {
    last.to_ns = t;
  }
  s.from_ns = t;
  lane.spans.push_back(std::move(s));
}

std::string id_list(const std::vector<std::uint32_t>& ids) {
  std::string out;
  for (std::uint32_t id : ids) (out += out.empty() ? "" : ",") += std::to_string(id);
  return out;
}

}  // namespace

std::string node_span::text() const {
  std::string s;
  if (down)
    s = "down";
  else if (stopped)
    s = "stopped itself";
  else if (!role.empty())
    s = role;
  else
    s = "role unknown";
  if (!down && term != 0) (s += ", term ") += std::to_string(term);
  if (paused) s += "; paused";
  if (!cut_from.empty()) s += "; cut from " + id_list(cut_from);
  if (!cannot_send_to.empty()) s += "; cannot send to " + id_list(cannot_send_to);
  if (!cannot_hear.empty()) s += "; cannot hear " + id_list(cannot_hear);
  return s;
}

bool node_span::same_state(const node_span& o) const {
  return std::tie(down, stopped, paused, role, term, cut_from, cannot_send_to, cannot_hear) ==
         std::tie(o.down, o.stopped, o.paused, o.role, o.term, o.cut_from, o.cannot_send_to, o.cannot_hear);
}

std::vector<node_lane> node_lanes(const history& h, std::uint64_t start_ns, std::uint64_t end_ns) {
  std::set<std::uint32_t> ids;
  for (std::size_t n = 1; n <= h.node_count; ++n) ids.insert(static_cast<std::uint32_t>(n));
  for (const fault_event& f : h.faults) {
    for (std::uint32_t id : {f.node, f.from, f.to})
      if (id != 0) ids.insert(id);
    for (const auto& group : f.groups) ids.insert(group.begin(), group.end());
  }
  for (const node_event& e : h.nodes) ids.insert(e.node);
  ids.erase(0);

  std::vector<node_lane> lanes;
  for (std::uint32_t id : ids) {
    node_lane lane{id, {node_span{}}};
    lane.spans.front().from_ns = start_ns;
    lanes.push_back(std::move(lane));
  }
  std::map<std::uint32_t, node_state> states;
  cut_set cuts;
  const auto settle = [&](std::uint64_t t) {
    for (node_lane& lane : lanes) extend(lane, span_of(lane.node, states[lane.node], cuts), std::max(t, start_ns));
  };
  // Both lists are in time order; merged, faults first at one time.
  std::size_t f = 0, n = 0;
  while (f < h.faults.size() || n < h.nodes.size()) {
    const bool fault_next = f < h.faults.size() && (n == h.nodes.size() || h.faults[f].time_ns <= h.nodes[n].time_ns);
    const std::uint64_t t = fault_next ? h.faults[f].time_ns : h.nodes[n].time_ns;
    if (t > end_ns) break;
    if (fault_next)
      apply(h.faults[f++], states, cuts);
    else
      apply(h.nodes[n++], states);
    settle(t);
  }
  for (node_lane& lane : lanes) lane.spans.back().to_ns = std::max(end_ns, lane.spans.back().from_ns);
  return lanes;
}

}  // namespace dkv::check
