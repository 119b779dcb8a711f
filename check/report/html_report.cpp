#include "check/report/html_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

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

constexpr std::string_view page_head = R"html(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>dkv-check report</title>
<style>
body { font: 13px sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 4px; }
.verdict-linearizable { color: #1a7f37; } .verdict-not { color: #c62828; } .verdict-unknown { color: #b26a00; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
svg text { font: 11px sans-serif; fill: #444; }
#tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #888; padding: 4px 6px;
       font: 12px monospace; white-space: pre; display: none; }
</style></head>
<body>
<h1 id="title"></h1><div id="summary"></div>
<div class="legend"><span><i style="background:#4caf50"></i>ok</span><span><i style="background:#bdbdbd"></i>fail</span>
<span><i style="background:#ff9800"></i>unknown (info)</span><span><i style="background:#fff;border:2px solid #c62828"></i>failing part</span>
<span><i style="background:#1565c0"></i>in the longest linearizable prefix</span>
<span><i style="background:#c62828"></i>cannot be placed</span><span><i style="background:rgba(120,120,120,.18)"></i>partition</span>
<span><i style="background:rgba(198,40,40,.15)"></i>node down</span></div>
<div id="chart"></div><div id="tip"></div>
<script id="data" type="application/json">)html";

constexpr std::string_view page_tail = R"html(</script>
<script>
(function () {
  const d = JSON.parse(document.getElementById('data').textContent);
  document.getElementById('title').textContent = d.title;
  const summary = document.getElementById('summary');
  const cls = d.verdict === 'linearizable' ? 'verdict-linearizable' : d.verdict === 'unknown' ? 'verdict-unknown' : 'verdict-not';
  summary.innerHTML = '<b class="' + cls + '"></b> <span></span>';
  summary.firstChild.textContent = d.verdict;
  summary.lastChild.textContent = ' — model ' + d.model + ', ' + d.total + ' operations' +
      (d.drawn < d.total ? ' (' + d.drawn + ' drawn: the failing part)' : '') + (d.explanation ? ' — ' + d.explanation : '');
  const lanes = [...new Set(d.ops.map(o => o.p))].sort((a, b) => a - b);
  const laneOf = new Map(lanes.map((p, i) => [p, i]));
  let t0 = Infinity, t1 = -Infinity;
  for (const o of d.ops) { t0 = Math.min(t0, o.c); t1 = Math.max(t1, o.r === null ? o.c : o.r); }
  for (const f of d.faults) { t0 = Math.min(t0, f.t); t1 = Math.max(t1, f.t); }
  if (!isFinite(t0)) { t0 = 0; t1 = 1; }
  const end = t1 + (t1 - t0) * 0.02 + 1;
  const left = 70, width = Math.max(900, Math.min(4000, d.ops.length * 6)), laneH = 18, top = 20;
  const height = top + lanes.length * laneH + 20;
  const x = t => left + (t - t0) / (end - t0) * width;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', left + width + 20); svg.setAttribute('height', height);
  const add = (name, attrs, parent) => { const e = document.createElementNS(ns, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]); (parent || svg).appendChild(e); return e; };
  // Fault shading: partitions until heal, a node down from crash (or pause) to restart (or resume).
  let partitionFrom = null; const downFrom = new Map();
  const shade = (a, b, fill) => add('rect', { x: x(a), y: top - 4, width: Math.max(1, x(b) - x(a)), height: height - top, fill: fill });
  for (const f of d.faults) {
    if (f.kind === 'partition') { if (partitionFrom === null) partitionFrom = f.t; }
    else if (f.kind === 'heal') { if (partitionFrom !== null) shade(partitionFrom, f.t, 'rgba(120,120,120,.18)'); partitionFrom = null; }
    else if (f.kind === 'crash' || f.kind === 'pause') downFrom.set(f.node, f.t);
    else if ((f.kind === 'restart' || f.kind === 'resume') && downFrom.has(f.node)) {
      shade(downFrom.get(f.node), f.t, 'rgba(198,40,40,.15)'); downFrom.delete(f.node); }
    const mark = add('line', { x1: x(f.t), x2: x(f.t), y1: top - 6, y2: height, stroke: '#999', 'stroke-dasharray': '2,3' });
    add('title', {}, mark).textContent = f.description;
  }
  if (partitionFrom !== null) shade(partitionFrom, end, 'rgba(120,120,120,.18)');
  for (const [node, from] of downFrom) shade(from, end, 'rgba(198,40,40,.15)');
  lanes.forEach((p, i) => { const t = add('text', { x: 4, y: top + i * laneH + 12 }); t.textContent = 'client ' + p; });
  const tip = document.getElementById('tip');
  const colours = { ok: '#4caf50', fail: '#bdbdbd', info: '#ff9800' };
  let bars = 0;
  for (const o of d.ops) {
    const y = top + laneOf.get(o.p) * laneH + 2;
    const x0 = x(o.c), x1 = o.r === null ? x(end) : x(o.r);
    const fill = o.stuck ? '#c62828' : o.prefix ? '#1565c0' : colours[o.o];
    const r = add('rect', { x: x0, y: y, width: Math.max(2, x1 - x0), height: laneH - 5, fill: fill, rx: 2,
                            stroke: o.part ? '#c62828' : 'none', 'stroke-width': o.part ? 1.5 : 0,
                            'fill-opacity': o.o === 'info' ? 0.6 : 1 });
    r.addEventListener('mousemove', e => { tip.style.display = 'block'; tip.style.left = (e.clientX + 12) + 'px';
      tip.style.top = (e.clientY + 12) + 'px'; tip.textContent = o.label + '\n' + o.result + '\nclient ' + o.p +
      ', call ' + o.c + (o.r === null ? '' : ', return ' + o.r) + (o.prefix ? '\nlinearized #' + o.prefix : ''); });
    r.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
    add('title', {}, r).textContent = o.label + ' → ' + o.result;
    ++bars;
  }
  document.getElementById('chart').appendChild(svg);
  document.body.setAttribute('data-rendered', String(bars));
})();
</script>
</body></html>
)html";

}  // namespace

std::string render_html_report(const history& h, const check_report& report, std::string_view title) {
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
                          {"o", o.result == outcome::ok     ? "ok"
                                : o.result == outcome::fail ? "fail"
                                                            : "info"},
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
    const std::size_t at = f.description.find("\"node\":");
    if (at != std::string::npos) event["node"] = std::atoi(f.description.c_str() + at + 7);
    faults.push_back(std::move(event));
  }
  const char* verdict_text = report.result == verdict::linearizable       ? "linearizable"
                             : report.result == verdict::not_linearizable ? "not linearizable"
                                                                          : "unknown";
  const nlohmann::json data = {{"title", std::string(title)},
                               {"verdict", verdict_text},
                               {"model", std::string(model_name(report.model))},
                               {"explanation", report.explanation},
                               {"total", h.operations.size()},
                               {"drawn", ops.size()},
                               {"ops", std::move(ops)},
                               {"faults", std::move(faults)}};
  std::string page(page_head);
  page += script_safe(data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  page += page_tail;
  return page;
}

}  // namespace dkv::check
