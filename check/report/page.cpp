#include "check/report/page.hpp"

namespace dkv::check {

// Plain HTML, CSS and script, nothing fetched: the page must open from a
// CI artifact or a mail attachment as it is.
const std::string_view report_page_head = R"html(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>dkv report</title>
<style>
body { font: 13px sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 6px; }
h2 { font-size: 15px; margin: 18px 0 6px; }
#headline { font-size: 16px; font-weight: bold; margin: 4px 0 8px; }
.pass { color: #1a7f37; } .fail { color: #c62828; } .undecided { color: #b26a00; } .skipped { color: #777; }
table { border-collapse: collapse; }
td, th { padding: 2px 10px 2px 0; vertical-align: top; text-align: left; }
#verdicts td.where, #faults td.time { color: #666; white-space: nowrap; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
#chart { overflow-x: auto; }
#fault-list { max-height: 24em; overflow-y: auto; }
svg text { font: 11px sans-serif; fill: #444; }
svg text.span-label { fill: #fff; pointer-events: none; }
svg text.mark-label { fill: #c62828; font-weight: bold; }
#tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #888; padding: 4px 6px;
       font: 12px monospace; white-space: pre; display: none; }
</style></head>
<body>
<h1 id="title"></h1>
<div id="headline"></div>
<table id="verdicts"></table>
<div id="summary"></div>
<h2>Timeline</h2>
<div class="legend">operations: <span><i style="background:#4caf50"></i>ok</span><span><i style="background:#bdbdbd"></i>fail</span>
<span><i style="background:#ff9800"></i>unknown (info)</span><span><i style="background:#fff;border:2px solid #c62828"></i>failing part</span>
<span><i style="background:#1565c0"></i>in the longest linearizable prefix</span><span><i style="background:#c62828"></i>cannot be placed</span></div>
<div class="legend" id="node-legend">nodes: <span><i style="background:#0d47a1"></i>leader</span><span><i style="background:#f9a825"></i>candidate</span>
<span><i style="background:#fdd835"></i>pre-candidate</span><span><i style="background:#64b5f6"></i>follower</span>
<span><i style="background:#cfd8dc"></i>role unknown</span><span><i style="background:#b71c1c"></i>down</span>
<span><i style="background:#6a1b9a"></i>stopped itself</span><span><i style="background:repeating-linear-gradient(45deg,#fff 0 2px,#ef6c00 2px 4px)"></i>paused</span>
<span><i style="background:#424242;height:4px"></i>cut off (by a partition)</span>
<span><i style="background:#c62828;width:3px"></i>where a check failed</span></div>
<div id="zoom"><button id="whole">whole run</button> <button id="to-failure">around the failure</button>
drag across the chart to zoom in</div>
<div id="chart"></div>
<h2>Faults</h2>
<div id="fault-list"><table id="faults"></table></div>
<div id="tip"></div>
<script id="data" type="application/json">)html";

const std::string_view report_page_tail = R"html(</script>
<script>
(function () {
  const d = JSON.parse(document.getElementById('data').textContent);
  const $ = id => document.getElementById(id);
  const element = (parent, tag, text, cls) => { const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text; if (cls) e.className = cls; parent.appendChild(e); return e; };
  document.title = d.title + ' — dkv report';
  $('title').textContent = d.title;

  // Time as the page writes it. A run's clock is in nanoseconds; a clock
  // that does not start near 0 (a real one) is shown from the first event.
  const origin = d.unit === 'ns' && d.t0 > 10 * (d.t1 - d.t0) ? d.t0 : 0;
  // A tick as precise as the ticks' step; any other time to the millisecond
  // from a second on, else to the microsecond.
  const timeText = (t, step) => {
    if (d.unit !== 'ns') return (step ? '' : 'line ') + Math.round(t);
    t -= origin;
    const [unit, scale] = (step ? step >= 1e8 : t >= 1e9) ? ['s', 1e9] : ['ms', 1e6];
    const precision = step || scale / 1000;
    const digits = Math.max(0, Math.ceil(-Math.log10(precision / scale) - 1e-9));
    return (t / scale).toFixed(digits) + ' ' + unit;
  };

  // The verdicts: the first failing check is the headline.
  const failed = d.checks.find(c => !c.passed && !c.undecided), undecided = d.checks.find(c => !c.passed && c.undecided);
  const head = failed || undecided, skipped = d.checks.filter(c => c.skipped).length;
  const headline = $('headline');
  headline.className = failed ? 'fail' : undecided ? 'undecided' : 'pass';
  headline.textContent = head ? (failed ? 'FAILED: ' : 'UNDECIDED: ') + head.name + ' — ' + head.detail
    : d.checks.length === 1 ? 'PASSED: ' + d.checks[0].name + ' — ' + d.checks[0].detail
    : d.checks.length ? 'PASSED: all ' + (d.checks.length - skipped) + ' checks run' +
                        (skipped ? ' (' + skipped + ' skipped)' : '') : 'no checks';
  for (const c of d.checks) {
    const state = c.skipped ? 'skipped' : c.passed ? 'pass' : c.undecided ? 'undecided' : 'fail';
    const row = element($('verdicts'), 'tr', undefined, 'verdict verdict-' + state);
    element(row, 'td', c.skipped ? '–' : c.passed ? '✓' : c.undecided ? '?' : '✗', state);
    element(row, 'td', c.name, state).style.fontWeight = 'bold';
    element(row, 'td', c.detail);
    element(row, 'td', c.passed ? '' : c.at !== undefined ? 'marked at ' + timeText(c.at) : 'no time: not on the timeline',
            'where');
  }
  $('summary').textContent = d.total + ' operations (model ' + d.model + ')' +
    (d.drawn < d.total ? ', ' + d.drawn + ' drawn: the failing part' : '') + ', ' + d.faults.length + ' faults, ' +
    d.lanes.length + ' nodes';

  // The chart: the axis, a lane per client (probes last), a lane per node,
  // drawn for a window of time — the whole run, or what was dragged across.
  const clients = [...new Set(d.ops.map(o => o.p))].sort((a, b) => a - b);
  const laneOf = new Map(clients.map((p, i) => [p, i]));
  const lane = p => (p >= 2000000 ? 'final read ' : p >= 1000000 ? 'probe ' : 'client ') + p;
  // A run's clock starts the chart at 0 unless its first event is far from it.
  const start = d.unit === 'ns' && origin === 0 && d.t0 < (d.t1 - d.t0) / 20 ? 0 : d.t0;
  const end = d.t1 + (d.t1 - start) * 0.02;
  // The whole run about 6 pixels an operation or fault, scrolled if need be;
  // a window zoomed into as wide as the page shows.
  const left = 90, wholeWidth = Math.max(900, Math.min(4000, (d.ops.length + 2 * d.faults.length) * 6));
  const laneH = 18, nodeH = 20, top = 34;
  const nodesTop = top + clients.length * laneH + (clients.length ? 14 : 0);
  const bottom = nodesTop + d.lanes.length * nodeH;
  const height = bottom + 22;
  const laneTop = new Map(d.lanes.map((l, i) => [l.node, nodesTop + i * nodeH]));
  const colours = { ok: '#4caf50', fail: '#bdbdbd', info: '#ff9800' };
  const spanColours = { down: '#b71c1c', stopped: '#6a1b9a', leader: '#0d47a1', candidate: '#f9a825',
                        'pre-candidate': '#fdd835', follower: '#64b5f6', unknown: '#cfd8dc' };
  const short = { leader: 'L', candidate: 'C', 'pre-candidate': 'P', follower: 'F' };
  const marked = d.checks.filter(c => !c.passed && c.at !== undefined);
  if (!d.lanes.length) $('node-legend').style.display = 'none';
  if (!marked.length) $('to-failure').style.display = 'none';
  const ns = 'http://www.w3.org/2000/svg';
  const tip = $('tip');
  const hover = (e, text) => {
    e.addEventListener('mousemove', m => { tip.style.display = 'block'; tip.style.left = (m.clientX + 12) + 'px';
      tip.style.top = (m.clientY + 12) + 'px'; tip.textContent = text; });
    e.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  };

  const draw = (a, b) => {
    const width = a === start && b === end ? wholeWidth : Math.max(600, $('chart').clientWidth - left - 20);
    const x = t => left + (t - a) / (b - a) * width;
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', left + width + 20); svg.setAttribute('height', height);
    const add = (name, attrs, parent) => { const e = document.createElementNS(ns, name);
      for (const k in attrs) e.setAttribute(k, attrs[k]); (parent || svg).appendChild(e); return e; };
    const defs = add('defs', {});
    add('rect', { x: left, y: 0, width: width, height: height }, add('clipPath', { id: 'window' }, defs));
    const stripes = add('pattern', { id: 'paused', width: 6, height: 6, patternUnits: 'userSpaceOnUse',
                                     patternTransform: 'rotate(45)' }, defs);
    add('rect', { width: 3, height: 6, fill: '#ef6c00' }, stripes);
    // What lies on the time axis is clipped to the window; the lanes' names are not.
    const inWindow = parent => add('g', { 'clip-path': 'url(#window)' }, parent);

    // Ticks 1, 2 or 5 times a power of ten apart, about 120 pixels.
    const axis = add('g', { id: 'axis' });
    const raw = (b - a) / (width / 120), power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = power * (raw / power <= 1 ? 1 : raw / power <= 2 ? 2 : raw / power <= 5 ? 5 : 10);
    add('line', { x1: left, x2: left + width, y1: top - 8, y2: top - 8, stroke: '#888' }, axis);
    for (let t = Math.ceil((a - origin) / step) * step + origin; t <= b; t += step) {
      add('line', { x1: x(t), x2: x(t), y1: top - 12, y2: bottom, stroke: '#eee' }, axis);
      add('line', { x1: x(t), x2: x(t), y1: top - 12, y2: top - 8, stroke: '#888' }, axis);
      add('text', { x: x(t), y: top - 16, 'text-anchor': 'middle', class: 'tick' }, axis).textContent = timeText(t, step);
    }

    // Every fault a dashed line; one that names a node also a tick on its lane.
    const faults = inWindow();
    for (const f of d.faults) {
      const mark = add('line', { x1: x(f.t), x2: x(f.t), y1: top - 6, y2: bottom, stroke: '#999',
                                 'stroke-dasharray': '2,3', class: 'fault-mark' }, faults);
      add('title', {}, mark).textContent = timeText(f.t) + ': ' + f.description;
    }

    clients.forEach((p, i) => {
      add('text', { x: 4, y: top + i * laneH + 12, class: 'client-lane' }).textContent = lane(p);
    });
    const ops = inWindow();
    const barOf = new Map();  // "process call" -> its bar, for a check that points at an operation
    let bars = 0;
    for (const o of d.ops) {
      const y = top + laneOf.get(o.p) * laneH + 2;
      const x0 = x(o.c), x1 = o.r === null ? x(end) : x(o.r);
      const fill = o.stuck ? '#c62828' : o.prefix ? '#1565c0' : colours[o.o];
      const r = add('rect', { x: x0, y: y, width: Math.max(2, x1 - x0), height: laneH - 5, fill: fill, rx: 2,
                              stroke: o.part ? '#c62828' : 'none', 'stroke-width': o.part ? 1.5 : 0,
                              'fill-opacity': o.o === 'info' ? 0.6 : 1, class: 'op' }, ops);
      hover(r, o.label + '\n' + o.result + '\n' + lane(o.p) + ', call ' + timeText(o.c) +
            (o.r === null ? '' : ', return ' + timeText(o.r)) + (o.prefix ? '\nlinearized #' + o.prefix : ''));
      barOf.set(o.p + ' ' + o.c, r);
      ++bars;
    }

    if (d.lanes.length) add('text', { x: 4, y: nodesTop - 3 }).textContent = 'nodes';
    for (const l of d.lanes) {
      const y = laneTop.get(l.node);
      const g = add('g', { class: 'node-lane', 'data-node': l.node });
      add('text', { x: 4, y: y + 13 }, g).textContent = 'node ' + l.node;
      const spans = inWindow(g);
      for (const s of l.spans) {
        const x0 = x(s.a), x1 = x(s.b === d.t1 ? end : s.b), w = Math.max(1, x1 - x0);
        if (x1 < left || x0 > left + width) continue;
        const r = add('rect', { x: x0, y: y + 1, width: w, height: nodeH - 7, fill: spanColours[s.s] || '#90a4ae',
                                class: 'span span-' + s.s }, spans);
        hover(r, 'node ' + l.node + ': ' + s.text + '\n' + timeText(s.a) + ' – ' + timeText(s.b));
        if (s.paused) add('rect', { x: x0, y: y + 1, width: w, height: nodeH - 7, fill: 'url(#paused)',
                                    'pointer-events': 'none' }, spans);
        if (s.cut) add('rect', { x: x0, y: y + nodeH - 6, width: w, height: 4, fill: '#424242', class: 'cut' }, spans);
        // The longest label that fits in what shows of it: the whole state, else its role and term.
        const shown = Math.min(x1, left + width) - Math.max(x0, left);
        const brief = s.s === 'down' || s.s === 'stopped' ? s.s : (short[s.s] || '?') + (s.term ? s.term : '');
        const label = [s.text, brief].find(t => t.length * 6 + 6 < shown);
        if (label) add('text', { x: Math.max(x0, left) + 3, y: y + 11, class: 'span-label' }, spans).textContent = label;
      }
    }
    const ticks = inWindow();
    for (const f of d.faults) {
      if (f.node === undefined || !laneTop.has(f.node)) continue;
      const tick = add('path', { d: `M${x(f.t) - 4},${laneTop.get(f.node) - 2} l8,0 l-4,6 z`, fill: '#333',
                                 class: 'node-fault' }, ticks);
      add('title', {}, tick).textContent = timeText(f.t) + ': ' + f.description;
    }

    // Where each failing check says it failed: a red line across the lanes,
    // and the operation it points at outlined.
    const marks = add('g', { id: 'marks' }, inWindow());
    for (const c of marked) {
      const line = add('line', { x1: x(c.at), x2: x(c.at), y1: top - 8, y2: bottom + 4, stroke: '#c62828',
                                 'stroke-width': 2, class: 'failure-mark' }, marks);
      add('title', {}, line).textContent = c.name + ' at ' + timeText(c.at) + ': ' + c.detail;
      const nearEnd = x(c.at) > left + width - 120;  // the label goes left of its line, inside the chart
      add('text', { x: x(c.at) + (nearEnd ? -3 : 3), y: bottom + 16, class: 'mark-label',
                    'text-anchor': nearEnd ? 'end' : 'start' }, marks).textContent = '✗ ' + c.name;
      const bar = c.p === undefined ? null : barOf.get(c.p + ' ' + c.at);
      if (bar) { bar.setAttribute('stroke', '#000'); bar.setAttribute('stroke-width', 2.5); }
    }

    // Dragging across the chart zooms into what it crossed.
    const selection = add('rect', { y: top - 12, height: bottom - top + 12, fill: 'rgba(21,101,192,.15)', width: 0 });
    const timeAt = e => a + (Math.min(Math.max(e.clientX - svg.getBoundingClientRect().left, left), left + width) - left) /
                            width * (b - a);
    let from = null;
    svg.addEventListener('mousedown', e => { from = timeAt(e); e.preventDefault(); });
    svg.addEventListener('mousemove', e => { if (from === null) return;
      const to = timeAt(e); selection.setAttribute('x', x(Math.min(from, to)));
      selection.setAttribute('width', Math.abs(x(to) - x(from))); });
    svg.addEventListener('mouseup', e => { const to = timeAt(e), was = from; from = null;
      if (was !== null && Math.abs(x(to) - x(was)) > 4) draw(Math.min(was, to), Math.max(was, to));
      else selection.setAttribute('width', 0); });

    $('chart').replaceChildren(svg);
    return bars;
  };

  // Around the first failure a check marked: a twentieth of the run before it.
  const aroundFailure = () => { const t = marked[0].at, w = end - start;
    return draw(Math.max(start, t - w / 20), Math.min(end, t + w / 30)); };
  $('whole').addEventListener('click', () => draw(start, end));
  $('to-failure').addEventListener('click', aroundFailure);
  // A link to the page with #failure opens it there.
  const bars = location.hash === '#failure' && marked.length ? aroundFailure() : draw(start, end);

  for (const f of d.faults) {
    const row = element($('faults'), 'tr', undefined, 'fault');
    element(row, 'td', timeText(f.t), 'time');
    element(row, 'td', f.description);
  }
  if (!d.faults.length) element($('faults'), 'tr').textContent = 'none';

  document.body.setAttribute('data-checks', String(d.checks.length));
  document.body.setAttribute('data-node-lanes', String(d.lanes.length));
  document.body.setAttribute('data-marks', String(marked.length));
  document.body.setAttribute('data-rendered', String(bars));
})();
</script>
</body></html>
)html";

}  // namespace dkv::check
