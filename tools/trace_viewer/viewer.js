// The run viewer: draws a simulation run (the model tools/trace_viewer/run_model.h embeds in the
// page) as a space-time diagram on a canvas — a lane per node, message arrows, shaded crashes,
// pauses, partitions and clogs, clock steps, Raft roles and terms, client operations as spans,
// the failing oracle's events in red. Zoom with the wheel (or the from/to fields), pan by
// dragging, double-click to reset; filter by node, service and layer. No network access.
//
// For tests: when the first drawing is done, <body> gets data-status="drawn", data-lanes (lanes
// drawn), data-lane-pixels ("n1:123 n2:456": painted pixels per lane, read back from the canvas)
// and data-arrows; any error sets data-error (window.onerror).
'use strict';
window.onerror = function (msg, src, line) {
  document.body.dataset.error = String(msg) + ' @' + line;
  const e = document.getElementById('err');
  if (e) e.textContent = 'Error: ' + msg;
};

const M = JSON.parse(document.getElementById('model').textContent);
const GUTTER = 78, AXIS = 22, GLOBAL = 26;
const SERVICE_COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf',
                        '#7f7f7f', '#bcbd22', '#ff7f0e', '#d62728'];
const ROLE_COLORS = { leader: '#2e9d4a', candidate: '#e0b400', precandidate: '#f2dc7a' };
const canvas = document.getElementById('canvas');
const ctx = canvas.getContext('2d');
const tip = document.getElementById('tip');
const view = { t0: 0, t1: Math.max(1, M.end), lanes: [], services: new Set(), layers: {} };
const hidden = new Set();          // node ids filtered out
const hiddenServices = new Set();
const violating = new Set(M.violatingOps || []);
let hits = [];                     // [x0, y0, x1, y1, text] for the tooltip, last drawn

function laneName(l) { return (l[1] ? 'c' : 'n') + l[0]; }
function ms(ns) { return (ns / 1e6).toFixed(ns < 1e7 ? 3 : 1) + ' ms'; }

function setup() {
  document.getElementById('title').textContent = 'Crema run: ' + M.title;
  const nodes = document.getElementById('nodes');
  for (const l of M.lanes) {
    nodes.appendChild(checkbox(laneName(l), true, (on) => { on ? hidden.delete(l[0]) : hidden.add(l[0]); draw(); }));
  }
  const services = new Set(M.arrows.map((a) => a[4]));
  const svc = document.getElementById('services');
  for (const s of [...services].sort((a, b) => a - b)) {
    const box = checkbox('s' + s, true, (on) => { on ? hiddenServices.delete(s) : hiddenServices.add(s); draw(); });
    box.style.color = SERVICE_COLORS[s % SERVICE_COLORS.length];
    svc.appendChild(box);
  }
  const layers = document.getElementById('layers');
  for (const name of ['messages', 'dropped', 'operations', 'roles', 'faults', 'labels']) {
    view.layers[name] = true;
    layers.appendChild(checkbox(name, true, (on) => { view.layers[name] = on; draw(); }));
  }
  document.getElementById('apply').onclick = () => {
    const a = parseFloat(document.getElementById('from').value) * 1e6;
    const b = parseFloat(document.getElementById('to').value) * 1e6;
    if (isFinite(a) && isFinite(b) && b > a) { view.t0 = a; view.t1 = b; draw(); }
  };
  document.getElementById('reset').onclick = reset;
  canvas.addEventListener('wheel', onWheel, { passive: false });
  canvas.addEventListener('mousedown', onDown);
  canvas.addEventListener('mousemove', onMove);
  canvas.addEventListener('dblclick', reset);
  window.addEventListener('mouseup', () => { drag = null; });
  window.addEventListener('resize', draw);
}

function checkbox(text, checked, onChange) {
  const label = document.createElement('label');
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.checked = checked;
  input.onchange = () => onChange(input.checked);
  label.appendChild(input);
  label.appendChild(document.createTextNode(text));
  return label;
}

function reset() { view.t0 = 0; view.t1 = Math.max(1, M.end); draw(); }

function x(t) { return GUTTER + (t - view.t0) / (view.t1 - view.t0) * (canvas.width - GUTTER); }
function tAt(px) { return view.t0 + (px - GUTTER) / (canvas.width - GUTTER) * (view.t1 - view.t0); }
function clampX(px) { return Math.max(GUTTER, Math.min(canvas.width, px)); }
function visible(a, b) { return b >= view.t0 && a <= view.t1; }

function layout() {
  const box = document.getElementById('canvas-box');
  canvas.width = Math.max(400, box.clientWidth);
  canvas.height = Math.max(200, box.clientHeight);
  view.lanes = M.lanes.filter((l) => !hidden.has(l[0]));
  const n = Math.max(1, view.lanes.length);
  view.laneHeight = Math.max(18, Math.min(120, (canvas.height - AXIS - GLOBAL) / n));
  view.laneOf = new Map(view.lanes.map((l, i) => [l[0], i]));
}
function laneY(node) {
  const i = view.laneOf.get(node);
  return i === undefined ? null : AXIS + GLOBAL + i * view.laneHeight;
}

function draw() {
  layout();
  hits = [];
  document.getElementById('from').value = (view.t0 / 1e6).toFixed(3);
  document.getElementById('to').value = (view.t1 / 1e6).toFixed(3);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  drawLanes();
  if (view.layers.faults) { drawPartitions(); drawIntervals(['down', 'paused']); drawClogs(); }
  if (view.layers.roles) drawIntervals(['leader', 'candidate', 'precandidate']);
  if (view.layers.messages) drawArrows();
  if (view.layers.operations) drawOps();
  drawMarks();
  drawAxis();
}

function drawLanes() {
  const h = view.laneHeight;
  view.lanes.forEach((l, i) => {
    const y = AXIS + GLOBAL + i * h;
    ctx.fillStyle = i % 2 ? '#fafafa' : '#ffffff';
    ctx.fillRect(GUTTER, y, canvas.width - GUTTER, h);
    ctx.fillStyle = '#333';
    ctx.fillText(laneName(l) + (l[1] ? ' (client)' : ''), 4, y + h / 2 + 4);
    ctx.strokeStyle = '#ddd';
    ctx.beginPath(); ctx.moveTo(GUTTER, y + h / 2); ctx.lineTo(canvas.width, y + h / 2); ctx.stroke();
  });
  ctx.fillStyle = '#eef1f7';
  ctx.fillRect(GUTTER, AXIS, canvas.width - GUTTER, GLOBAL);
  ctx.fillStyle = '#333';
  ctx.fillText('cluster', 4, AXIS + GLOBAL / 2 + 4);
}

function drawAxis() {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, AXIS);
  const span = view.t1 - view.t0;
  // A "nice" tick step (1, 2 or 5 x 10^k ns) giving about ten ticks.
  const raw = span / 10, base = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = base * 10;
  for (const m of [1, 2, 5]) { if (base * m >= raw) { step = base * m; break; } }
  ctx.strokeStyle = '#999'; ctx.fillStyle = '#333';
  for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
    const px = x(t);
    ctx.beginPath(); ctx.moveTo(px, AXIS - 6); ctx.lineTo(px, AXIS); ctx.stroke();
    ctx.fillText(ms(t), px + 2, AXIS - 8);
  }
}

function drawPartitions() {
  for (const [start, end, shape, links] of M.partitions) {
    if (!visible(start, end)) continue;
    const x0 = clampX(x(start)), x1 = clampX(x(end));
    ctx.fillStyle = 'rgba(66, 110, 220, 0.35)';
    ctx.fillRect(x0, AXIS + 3, Math.max(1, x1 - x0), GLOBAL - 6);
    const cut = new Set(links.flat());
    ctx.fillStyle = 'rgba(66, 110, 220, 0.10)';
    for (const node of cut) {
      const y = laneY(node);
      if (y !== null) ctx.fillRect(x0, y, Math.max(1, x1 - x0), view.laneHeight);
    }
    const text = 'partition ' + shape + ': ' + links.map((l) => l[0] + '>' + l[1]).join(' ');
    if (view.layers.labels && x1 - x0 > 60) { ctx.fillStyle = '#1d3f8f'; ctx.fillText(text.slice(0, (x1 - x0) / 6), x0 + 3, AXIS + 16); }
    hits.push([x0, AXIS, x1, AXIS + GLOBAL, text + '\n' + ms(start) + ' .. ' + ms(end)]);
  }
}

function drawClogs() {
  for (const [start, end, , links] of M.clogs) {
    if (!visible(start, end) || !links.length) continue;
    const y = laneY(links[0][0]);
    if (y === null) continue;
    const x0 = clampX(x(start)), x1 = clampX(x(end));
    ctx.fillStyle = 'rgba(140, 90, 40, 0.55)';
    ctx.fillRect(x0, y + view.laneHeight - 4, Math.max(1, x1 - x0), 3);
    hits.push([x0, y + view.laneHeight - 6, x1, y + view.laneHeight, 'clogged link ' + links[0][0] + '>' + links[0][1] + '\n' + ms(start) + ' .. ' + ms(end)]);
  }
}

function drawIntervals(kinds) {
  const h = view.laneHeight;
  for (const [node, start, end, kind, label] of M.intervals) {
    if (!kinds.includes(kind) || !visible(start, end)) continue;
    const y = laneY(node);
    if (y === null) continue;
    const x0 = clampX(x(start)), x1 = clampX(x(end));
    const w = Math.max(1, x1 - x0);
    if (kind === 'down') { ctx.fillStyle = 'rgba(220, 60, 60, 0.22)'; ctx.fillRect(x0, y, w, h); }
    else if (kind === 'paused') { ctx.fillStyle = 'rgba(245, 150, 20, 0.30)'; ctx.fillRect(x0, y, w, h); }
    else { ctx.fillStyle = ROLE_COLORS[kind] || '#aaa'; ctx.fillRect(x0, y + 1, w, 5); }
    if (view.layers.labels && w > 50) {
      ctx.fillStyle = kind === 'down' ? '#8b1a1a' : kind === 'paused' ? '#8a5200' : '#1d5e2c';
      ctx.fillText(label.slice(0, w / 6), x0 + 2, kind === 'down' || kind === 'paused' ? y + h - 3 : y + 14);
    }
    hits.push([x0, y, x1, y + (kind === 'down' || kind === 'paused' ? h : 7), 'n' + node + ': ' + (label || kind) + '\n' + ms(start) + ' .. ' + ms(end)]);
  }
}

function drawArrows() {
  const h = view.laneHeight;
  let drawn = 0;
  for (const [send, deliver, from, to, service, id, bytes, dropped] of M.arrows) {
    if (hiddenServices.has(service)) continue;
    if (dropped && !view.layers.dropped) continue;
    const end = deliver < 0 ? send : deliver;
    if (!visible(send, end)) continue;
    const y0 = laneY(from), y1 = laneY(to);
    if (y0 === null || y1 === null) continue;
    const x0 = x(send), x1 = x(end);
    const color = SERVICE_COLORS[service % SERVICE_COLORS.length];
    ctx.strokeStyle = color;
    ctx.globalAlpha = dropped ? 0.5 : 0.75;
    ctx.beginPath();
    if (dropped) {
      const mx = x0 + (x1 - x0) * 0.5, my = y0 + h / 2 + (y1 - y0) * 0.5;
      ctx.setLineDash([3, 3]); ctx.moveTo(x0, y0 + h / 2); ctx.lineTo(mx, my); ctx.stroke(); ctx.setLineDash([]);
      ctx.strokeStyle = '#c00'; ctx.beginPath();
      ctx.moveTo(mx - 3, my - 3); ctx.lineTo(mx + 3, my + 3); ctx.moveTo(mx + 3, my - 3); ctx.lineTo(mx - 3, my + 3);
    } else {
      ctx.moveTo(x0, y0 + h / 2); ctx.lineTo(x1, y1 + h / 2);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    if (!dropped) { ctx.fillStyle = color; ctx.fillRect(x1 - 1.5, y1 + h / 2 - 1.5, 3, 3); }
    if (Math.abs(x1 - x0) < 400) {
      hits.push([Math.min(x0, x1) - 2, Math.min(y0, y1) + h / 2 - 2, Math.max(x0, x1) + 2, Math.max(y0, y1) + h / 2 + 2,
                 'message #' + id + ' s' + service + ' ' + from + '>' + to + ' ' + bytes + 'B\nsent ' + ms(send) +
                 (dropped ? '\ndropped (' + dropped + ')' : deliver < 0 ? '\nnever delivered' : '\ndelivered ' + ms(deliver))]);
    }
    ++drawn;
  }
  view.arrowsDrawn = drawn;
}

function drawOps() {
  const h = view.laneHeight;
  for (const [node, id, start, end, what, result] of M.ops) {
    const stop = end < 0 ? M.end : end;
    if (!visible(start, stop)) continue;
    const y = laneY(node);
    if (y === null) continue;
    const x0 = clampX(x(start)), x1 = clampX(x(stop));
    const w = Math.max(2, x1 - x0), top = y + h * 0.3, height = Math.max(6, h * 0.4);
    const bad = violating.has(id);
    ctx.fillStyle = end < 0 ? 'rgba(255, 160, 40, 0.5)' : /fail|error|timeout|indeterminate|stale/i.test(result)
                  ? 'rgba(150, 150, 150, 0.6)' : 'rgba(60, 170, 90, 0.55)';
    ctx.fillRect(x0, top, w, height);
    ctx.strokeStyle = bad ? '#d00' : '#555';
    ctx.lineWidth = bad ? 3 : 0.5;
    ctx.strokeRect(x0, top, w, height);
    ctx.lineWidth = 1;
    if (view.layers.labels && w > 40) {
      ctx.fillStyle = '#111';
      ctx.fillText((what + ' → ' + (end < 0 ? '?' : result)).slice(0, w / 6), x0 + 2, top + height - 2);
    }
    hits.push([x0, top, x0 + w, top + height, 'op ' + id + ' on c' + node + ': ' + what + '\n→ ' +
               (end < 0 ? 'no answer (indeterminate)' : result) + '\n' + ms(start) + ' .. ' + (end < 0 ? '∞' : ms(end)) +
               (bad ? '\nNAMED BY THE FAILING ORACLE' : '')]);
  }
}

function drawMarks() {
  const h = view.laneHeight;
  for (const [node, t, kind, text] of M.marks) {
    if (t < view.t0 || t > view.t1) continue;
    const px = x(t);
    if (kind === 'phase') {
      ctx.strokeStyle = '#888'; ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(px, AXIS); ctx.lineTo(px, canvas.height); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = '#555'; ctx.fillText(text, px + 3, AXIS + GLOBAL - 4);
      hits.push([px - 3, AXIS, px + 3, AXIS + GLOBAL, 'phase: ' + text + ' at ' + ms(t)]);
    } else if (kind === 'violation' || kind === 'fail') {
      ctx.strokeStyle = '#d00'; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(px, AXIS); ctx.lineTo(px, canvas.height); ctx.stroke(); ctx.lineWidth = 1;
      const label = (kind === 'fail' ? 'FAIL ' : 'VIOLATION ') + text.slice(0, 90);
      ctx.fillStyle = '#d00';
      const right = px > canvas.width - 360;  // near the right edge: the label goes left
      ctx.textAlign = right ? 'right' : 'left';
      ctx.fillText(label, right ? px - 4 : px + 4, AXIS + (kind === 'fail' ? 11 : 21));
      ctx.textAlign = 'left';
      hits.push([px - 4, AXIS, px + 4, canvas.height, kind + ' at ' + ms(t) + '\n' + text]);
    } else if (kind === 'crash' || kind === 'restart') {
      if (!view.layers.faults) continue;
      const y = laneY(node);
      if (y === null) continue;
      const my = y + h / 2;
      ctx.strokeStyle = kind === 'crash' ? '#c00' : '#2e9d4a'; ctx.lineWidth = 2.5;
      ctx.beginPath();
      if (kind === 'crash') { ctx.moveTo(px - 5, my - 5); ctx.lineTo(px + 5, my + 5); ctx.moveTo(px + 5, my - 5); ctx.lineTo(px - 5, my + 5); }
      else { ctx.moveTo(px, my - 6); ctx.lineTo(px, my + 6); ctx.moveTo(px - 4, my - 2); ctx.lineTo(px, my - 6); ctx.lineTo(px + 4, my - 2); }
      ctx.stroke(); ctx.lineWidth = 1;
      if (view.layers.labels) { ctx.fillStyle = ctx.strokeStyle; ctx.fillText(kind, px + 6, my - 6); }
      hits.push([px - 6, my - 7, px + 6, my + 7, 'n' + node + ' ' + text + ' at ' + ms(t)]);
    } else if (view.layers.faults) {
      const y = node ? laneY(node) : AXIS;
      if (y === null) continue;
      ctx.fillStyle = kind === 'clock' ? '#8e2bd6' : '#8c564b';
      ctx.beginPath(); ctx.moveTo(px, y + h - 2); ctx.lineTo(px - 4, y + h - 9); ctx.lineTo(px + 4, y + h - 9); ctx.fill();
      hits.push([px - 5, y + h - 10, px + 5, y + h, 'n' + node + ' ' + text + ' at ' + ms(t)]);
    }
  }
}

// --- interaction ---
let drag = null;
function onWheel(e) {
  e.preventDefault();
  const t = tAt(e.offsetX), k = e.deltaY > 0 ? 1.25 : 0.8;
  view.t0 = Math.max(0, t - (t - view.t0) * k);
  view.t1 = Math.min(Math.max(1, M.end), t + (view.t1 - t) * k);
  if (view.t1 - view.t0 < 1000) view.t1 = view.t0 + 1000;
  draw();
}
function onDown(e) { drag = { x: e.offsetX, t0: view.t0, t1: view.t1 }; }
function onMove(e) {
  if (drag) {
    const dt = (e.offsetX - drag.x) / (canvas.width - GUTTER) * (drag.t1 - drag.t0);
    view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt;
    draw();
    return;
  }
  let found = null;
  for (let i = hits.length - 1; i >= 0; --i) {
    const [x0, y0, x1, y1, text] = hits[i];
    if (e.offsetX >= x0 && e.offsetX <= x1 && e.offsetY >= y0 && e.offsetY <= y1) { found = text; break; }
  }
  tip.style.display = found ? 'block' : 'none';
  if (found) {
    tip.textContent = found + '\n(t = ' + ms(tAt(e.offsetX)) + ')';
    tip.style.left = Math.min(e.offsetX + 14, canvas.width - 300) + 'px';
    tip.style.top = (e.offsetY + 14) + 'px';
  }
}

// --- self-check for tests: painted pixels per lane, read back from the canvas ---
function selfCheck() {
  const counts = [];
  const h = Math.floor(view.laneHeight);
  view.lanes.forEach((l, i) => {
    const y = Math.floor(AXIS + GLOBAL + i * view.laneHeight);
    const data = ctx.getImageData(GUTTER, y, canvas.width - GUTTER, Math.max(1, h)).data;
    const bg = i % 2 ? 250 : 255;
    let painted = 0;
    for (let p = 0; p < data.length; p += 4) {
      if (Math.abs(data[p] - bg) > 8 || Math.abs(data[p + 1] - bg) > 8 || Math.abs(data[p + 2] - bg) > 8) ++painted;
    }
    counts.push(laneName(l) + ':' + painted);
  });
  document.body.dataset.lanes = String(view.lanes.length);
  document.body.dataset.lanePixels = counts.join(' ');
  document.body.dataset.arrows = String(view.arrowsDrawn || 0);
  document.body.dataset.status = 'drawn';
}

setup();
draw();
selfCheck();
