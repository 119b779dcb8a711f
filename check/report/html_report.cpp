#include "check/report/html_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <utility>

#include "check/report/node_lanes.hpp"
#include "check/report/page.hpp"

namespace dkv::check {

namespace {

// Above this many operations only the failing part is drawn.
constexpr std::size_t max_bars = 20'000;

std::string label(const operation& o) {
  std::string s = o.f;
  if (!o.key.empty() || o.f == "get" || o.f == "put" || o.f == "append") s += " " + o.key;
  // (appended piecewise: GCC 12 warns falsely on "literal" + std::to_string at -O3)
  if (o.a) (s += ' ') += std::to_string(*o.a);
  if (o.b) (s += " -> ") += std::to_string(*o.b);
  if (!o.value.empty()) s += " = " + o.value;
  if (o.expire_in || o.delete_in)
    s += " (e " + std::to_string(o.expire_in) + ", d " + std::to_string(o.delete_in) + ")";
  return s;
}

std::string result_text(const operation& o) {
  std::string s = o.result == outcome::ok ? "ok" : o.result == outcome::fail ? "fail" : "unknown";
  if (o.result != outcome::ok) {
    if (o.code) ((s += " (code ") += std::to_string(o.code)) += ')';
    return s;
  }
  if (o.f == "read") {
    if (o.result_number)
      (s += ' ') += std::to_string(*o.result_number);
    else
      s += " nil";
  }
  if (o.result_value) ((s += " \"") += *o.result_value) += '"';
  if (o.f == "get" || o.f == "has") s += o.found ? " (found)" : " (not found)";
  if (o.f == "deleteIfValue") s += o.found ? " (deleted)" : " (kept)";
  if (o.index) (s += " @") += std::to_string(*o.index);
  return s;
}

// Escapes what would end the script element early.
std::string script_safe(std::string json) {
  std::string out;
  for (char c : json) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

// The span of time the page shows: every operation, fault, node event and
// failure point.
std::pair<std::uint64_t, std::uint64_t> time_range(const history& h, const std::vector<check_verdict>& checks) {
  std::uint64_t t0 = never, t1 = 0;
  const auto take = [&](std::uint64_t t) {
    t0 = std::min(t0, t);
    t1 = std::max(t1, t);
  };
  for (const operation& o : h.operations) {
    take(o.call_ns);
    if (o.return_ns != never) take(o.return_ns);
  }
  for (const fault_event& f : h.faults) take(f.time_ns);
  for (const node_event& e : h.nodes) take(e.time_ns);
  for (const check_verdict& c : checks)
    if (c.at_ns) take(*c.at_ns);
  if (t0 == never) return {0, 1};
  return {t0, std::max(t1, t0 + 1)};
}

nlohmann::json lanes_json(const history& h, std::uint64_t t0, std::uint64_t t1) {
  nlohmann::json lanes = nlohmann::json::array();
  for (const node_lane& lane : node_lanes(h, t0, t1)) {
    nlohmann::json spans = nlohmann::json::array();
    for (const node_span& s : lane.spans)
      spans.push_back({{"a", s.from_ns},
                       {"b", s.to_ns},
                       {"s", s.down           ? "down"
                             : s.stopped      ? "stopped"
                             : s.role.empty() ? "unknown"
                                              : s.role},
                       {"term", s.term},
                       {"paused", s.paused},
                       {"cut", s.cut()},
                       {"text", s.text()}});
    lanes.push_back({{"node", lane.node}, {"spans", std::move(spans)}});
  }
  return lanes;
}

nlohmann::json checks_json(const std::vector<check_verdict>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const check_verdict& c : checks) {
    nlohmann::json v = {{"name", c.name},
                        {"passed", c.passed},
                        {"undecided", c.undecided},
                        {"skipped", c.skipped},
                        {"detail", c.detail}};
    if (!c.passed && c.at_ns) v["at"] = *c.at_ns;
    if (!c.passed && c.process) v["p"] = *c.process;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

check_verdict linearizability_verdict(const history& h, const check_report& report) {
  check_verdict v;
  v.name = "linearizability";
  v.passed = report.ok();
  v.undecided = report.result == verdict::unknown;
  v.detail = report.summary;
  if (const auto op = failing_operation(h, report)) {
    v.at_ns = h.operations[*op].call_ns;
    v.process = h.operations[*op].process;
  }
  return v;
}

std::string render_html_report(const history& h, const std::vector<check_verdict>& checks,
                               const check_report& linearizability, std::string_view title) {
  const check_report& report = linearizability;
  std::set<std::size_t> part(report.part_ops.begin(), report.part_ops.end());
  std::vector<std::size_t> position_in_prefix(h.operations.size(), 0);
  for (std::size_t i = 0; i < report.longest_prefix.size(); ++i) position_in_prefix[report.longest_prefix[i]] = i + 1;
  const bool only_part = h.operations.size() > max_bars && !part.empty();

  nlohmann::json ops = nlohmann::json::array();
  for (std::size_t id = 0; id < h.operations.size(); ++id) {
    if (only_part && !part.count(id)) continue;
    if (ops.size() >= max_bars) break;
    const operation& o = h.operations[id];
    nlohmann::json bar = {{"p", o.process},
                          {"c", o.call_ns},
                          {"r", o.return_ns == never ? nlohmann::json(nullptr) : nlohmann::json(o.return_ns)},
                          {"o", outcome_name(o.result)},
                          {"label", label(o)},
                          {"result", result_text(o)}};
    if (part.count(id)) bar["part"] = true;
    if (position_in_prefix[id]) bar["prefix"] = position_in_prefix[id];
    if (report.stuck && *report.stuck == id) bar["stuck"] = true;
    ops.push_back(std::move(bar));
  }
  nlohmann::json faults = nlohmann::json::array();
  for (const fault_event& f : h.faults) {
    nlohmann::json event = {{"t", f.time_ns}, {"kind", f.kind}, {"description", f.description}};
    if (f.node != 0) event["node"] = f.node;
    faults.push_back(std::move(event));
  }
  const auto [t0, t1] = time_range(h, checks);
  const nlohmann::json data = {{"title", std::string(title)},
                               // Jepsen and EDN logs have no clock: their line numbers stand in for time.
                               {"unit", h.format == history_format::dkv_json ? "ns" : "line"},
                               {"t0", t0},
                               {"t1", t1},
                               {"checks", checks_json(checks)},
                               {"model", std::string(model_name(report.model))},
                               {"total", h.operations.size()},
                               {"drawn", ops.size()},
                               {"ops", std::move(ops)},
                               {"faults", std::move(faults)},
                               {"lanes", lanes_json(h, t0, t1)}};
  std::string page(report_page_head);
  page += script_safe(data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  page += report_page_tail;
  return page;
}

}  // namespace dkv::check
