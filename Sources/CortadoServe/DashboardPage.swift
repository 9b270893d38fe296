/// The dashboard's one page: HTML, CSS and JavaScript in one string, served by the binary,
/// nothing fetched from the network. Charts are drawn on canvases; new log records arrive
/// over a WebSocket (/api/runs/{id}/events) and are drawn as they come.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cortado</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #f6f6f4; }
header { background: #3b2a1e; color: #fff; padding: 10px 20px; font-size: 18px; }
header span { color: #d9b38c; font-size: 13px; margin-left: 12px; }
main { padding: 14px 20px; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e3e3e0; text-align: left; }
tr.run { cursor: pointer; } tr.run:hover { background: #faf4ec; } tr.selected { background: #f2e4d2; }
.state { font-weight: bold; } .running { color: #1a7f37; } .finished { color: #555; } .stopped, .failed { color: #b35900; } .diverged { color: #c62828; }
.panel { background: #fff; border: 1px solid #e3e3e0; border-radius: 6px; padding: 10px; margin: 12px 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
canvas { background: #fff; border: 1px solid #e3e3e0; border-radius: 6px; }
button { font: inherit; padding: 5px 12px; margin-right: 8px; border-radius: 4px; border: 1px solid #8a6b52; background: #fff; cursor: pointer; }
button.stop { border-color: #c62828; color: #c62828; }
nav a { margin-right: 14px; cursor: pointer; color: #6b4a2e; text-decoration: underline; }
pre { background: #fbfbfa; padding: 8px; overflow: auto; max-height: 420px; }
#message { color: #b35900; margin-left: 10px; }
</style></head>
<body>
<header>Cortado <span>training dashboard</span></header>
<main>
<table id="runs"><thead><tr><th>compare</th><th>run</th><th>state</th><th>iteration</th><th>ETA</th><th>best test output</th><th>started</th></tr></thead><tbody></tbody></table>
<div id="detail" style="display:none">
  <div class="panel"><b id="title"></b> <span id="status"></span>
    <div style="margin-top:8px"><button id="snap">Snapshot now</button><button id="stop" class="stop">Stop</button><span id="message"></span></div></div>
  <div class="charts">
    <canvas id="loss" width="560" height="300"></canvas>
    <span id="tests"><canvas id="test0" width="560" height="300"></canvas></span>
    <canvas id="lr" width="560" height="300"></canvas>
  </div>
  <div class="panel"><nav><a data-tab="net">net</a><a data-tab="summary">summary</a><a data-tab="solver">solver</a><a data-tab="snapshots">snapshots</a></nav><div id="tab"></div></div>
</div>
</main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const withToken = (url) => url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
const colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
let runs = [], selected = null, compared = new Set(), logs = {}, socket = null;

async function getJSON(url) { const r = await fetch(withToken(url)); if (!r.ok) throw new Error(await r.text()); return r.json(); }
function text(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
function duration(s) { if (s == null) return ""; s = Math.round(s); const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`; }

async function refreshRuns() {
  try { runs = await getJSON("/api/runs"); } catch (e) {
    // The server is gone: say so instead of leaving the last state ("running · ETA 38s").
    document.getElementById("status").textContent = "the dashboard server does not answer (stopped?); the page shows what it last saw";
    return; }
  const body = document.querySelector("#runs tbody");
  body.innerHTML = runs.map(r => `<tr class="run ${r.id === selected ? "selected" : ""}" data-id="${r.id}">
    <td><input type="checkbox" data-compare="${r.id}" ${compared.has(r.id) ? "checked" : ""}></td>
    <td>${text(r.name)}<br><small>${text(r.solver)}</small></td><td class="state ${r.state}">${r.state}</td>
    <td>${r.iter} / ${r.max_iter}</td><td>${r.state === "running" ? duration(r.eta_seconds) : ""}</td>
    <td>${r.best ? text(r.best.name) + " " + r.best.value.toFixed(4) : ""}</td><td>${text(r.started.replace("T", " ").replace("Z", ""))}</td></tr>`).join("");
  body.querySelectorAll("tr.run").forEach(tr => tr.onclick = (e) => { if (!e.target.dataset.compare) select(tr.dataset.id); });
  body.querySelectorAll("input[data-compare]").forEach(box => box.onchange = async () => {
    if (box.checked) { compared.add(box.dataset.compare); await loadLog(box.dataset.compare); } else compared.delete(box.dataset.compare);
    draw(); });
  // A run has its own address (#run=ID), so a link or a reload opens it.
  const wanted = new URLSearchParams(location.hash.slice(1)).get("run");
  if (!selected && runs.length) select(runs.some(r => r.id === wanted) ? wanted : runs[0].id);
  const r = runs.find(r => r.id === selected);
  if (r) document.getElementById("status").innerHTML = `<span class="state ${r.state}">${r.state}</span> · iteration ${r.iter} of ${r.max_iter}` +
    (r.state === "running" && r.eta_seconds != null ? ` · ETA ${duration(r.eta_seconds)}` : "");
  // Snapshot and Stop act on a training process: only a running run has one.
  for (const b of ["snap", "stop"]) document.getElementById(b).style.display = r && r.state === "running" ? "" : "none";
}

async function loadLog(id) { logs[id] = await getJSON(`/api/runs/${id}/log`); }

async function select(id) {
  selected = id;
  history.replaceState(null, "", `${location.pathname}${location.search}#run=${id}`);
  document.getElementById("detail").style.display = "";
  const r = runs.find(r => r.id === id);
  document.getElementById("title").textContent = r ? r.name : id;
  await loadLog(id);
  draw();
  showTab("net");
  if (socket) socket.close();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(withToken(`${scheme}//${location.host}/api/runs/${id}/events`));
  socket.onmessage = (m) => { (logs[id] = logs[id] || []).push(JSON.parse(m.data)); draw(); };
  refreshRuns();
}

function series(id, type, key, label) {
  return (logs[id] || []).filter(r => r.type === type).map(r => [r.iteration, key(r)]).filter(p => p[1] != null);
}

function draw() {
  if (!selected) return;
  const name = (id) => (runs.find(r => r.id === id) || {name: id}).name + (id === selected ? "" : ` (${id.slice(0, 4)})`);
  const ids = [selected, ...[...compared].filter(id => id !== selected)];
  // A colour per run, so compared runs keep theirs in every chart.
  const colour = (id) => colours[ids.indexOf(id) % colours.length];
  chart("loss", "Training loss", "loss", ids.map(id => ({label: name(id), colour: colour(id), points: series(id, "train", r => r.loss)})));
  const outputs = new Set();
  (logs[selected] || []).filter(r => r.type === "test").forEach(r => Object.keys(r.outputs || {}).forEach(k => outputs.add(k)));
  // One chart per test output: accuracy and loss have their own y axes.
  const holder = document.getElementById("tests");
  holder.innerHTML = [...outputs].map((k, i) => `<canvas id="test${i}" width="560" height="300"></canvas>`).join("") ||
    `<canvas id="test0" width="560" height="300"></canvas>`;
  if (!outputs.size) chart("test0", "Test outputs", "", []);
  [...outputs].forEach((k, i) => chart(`test${i}`, `Test ${k}`, k,
    ids.map(id => ({label: name(id), colour: colour(id), points: series(id, "test", r => (r.outputs || {})[k])}))));
  chart("lr", "Learning rate", "lr", ids.map(id => ({label: name(id), colour: colour(id), points: series(id, "train", r => r.lr)})));
}

/// About five ticks 1, 2 or 5 × 10^k apart covering lo..hi.
function niceTicks(lo, hi) {
  const step0 = (hi - lo) / 5, p = Math.pow(10, Math.floor(Math.log10(step0))), f = step0 / p;
  const step = (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p, out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function chart(canvasId, title, yTitle, list) {
  const c = document.getElementById(canvasId), g = c.getContext("2d"), W = c.width, H = c.height;
  const m = {l: 64, r: 16, t: 28, b: 40};
  g.clearRect(0, 0, W, H); g.font = "12px Helvetica, Arial"; g.fillStyle = "#222"; g.textAlign = "left";
  g.fillText(title, m.l, 18);
  const all = list.flatMap(s => s.points);
  if (!all.length) { g.fillStyle = "#888"; g.fillText("no records yet", m.l, H / 2); return; }
  let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
  let y0 = Math.min(...all.map(p => p[1])), y1 = Math.max(...all.map(p => p[1]));
  if (x1 === x0) { x0 -= 1; x1 += 1; } if (y1 === y0) { y1 += Math.abs(y1) * 0.1 + 1e-6; y0 -= Math.abs(y0) * 0.1 + 1e-6; }
  const xs = niceTicks(x0, x1), ys = niceTicks(y0, y1);
  const X = (x) => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r), Y = (y) => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);
  g.strokeStyle = "#ccc"; g.beginPath(); g.moveTo(m.l, m.t); g.lineTo(m.l, H - m.b); g.lineTo(W - m.r, H - m.b); g.stroke();
  g.fillStyle = "#555"; g.textAlign = "right";
  ys.forEach(y => g.fillText(String(y), m.l - 6, Y(y) + 4));
  xs.forEach((x, i) => { g.textAlign = X(x) > W - m.r - 20 ? "right" : "center"; g.fillText(String(x), X(x), H - m.b + 16); });
  g.textAlign = "center"; g.fillText("iteration", (m.l + W - m.r) / 2, H - 6);
  g.save(); g.translate(14, (m.t + H - m.b) / 2); g.rotate(-Math.PI / 2); g.fillText(yTitle, 0, 0); g.restore();
  g.textAlign = "left";
  list.forEach((s, i) => {
    g.strokeStyle = g.fillStyle = s.colour; g.lineWidth = 1.6; g.beginPath();
    s.points.forEach((p, k) => k ? g.lineTo(X(p[0]), Y(p[1])) : g.moveTo(X(p[0]), Y(p[1]))); g.stroke();
    // Points too, so a single test shows.
    if (s.points.length <= 60) s.points.forEach(p => { g.beginPath(); g.arc(X(p[0]), Y(p[1]), 2.5, 0, 2 * Math.PI); g.fill(); });
    g.fillText(s.label, W - m.r - 190, m.t + 14 * (i + 1));
  });
}

async function showTab(tab) {
  const el = document.getElementById("tab"), base = `/api/runs/${selected}`;
  try {
    if (tab === "net") el.innerHTML = `<img alt="net" src="${withToken(base + "/net.svg")}">`;
    if (tab === "solver") { const r = await fetch(withToken(base + "/solver")); el.innerHTML = `<pre>${text(await r.text())}</pre>`; }
    if (tab === "summary") { const s = await getJSON(base + "/summary");
      el.innerHTML = `<p>${s.params.toLocaleString()} parameters, ${s.macs.toLocaleString()} multiply-adds per batch</p><table><tr><th>layer</th><th>type</th><th>tops</th><th>parameters</th><th>multiply-adds</th></tr>` +
        s.layers.map(l => `<tr><td>${text(l.name)}</td><td>${text(l.type)}</td><td>${l.tops.map(t => text(t.name) + " " + t.shape.join("×")).join(", ")}</td><td>${l.params.toLocaleString()}</td><td>${l.macs.toLocaleString()}</td></tr>`).join("") + "</table>"; }
    if (tab === "snapshots") { const list = await getJSON(base + "/snapshots");
      el.innerHTML = list.length ? "<ul>" + list.map(f => `<li><a href="${withToken(base + "/snapshots/" + encodeURIComponent(f.name))}" download>${text(f.name)}</a> (${(f.bytes / 1e6).toFixed(1)} MB)</li>`).join("") + "</ul>" : "no snapshots yet"; }
  } catch (e) { el.textContent = String(e); }
}

async function post(action) {
  const r = await fetch(`/api/runs/${selected}/${action}`, {method: "POST", headers: {"Authorization": "Bearer " + token}});
  document.getElementById("message").textContent = r.ok ? (action === "stop" ? "stopping…" : "snapshot requested") : await r.text();
  setTimeout(refreshRuns, 1000);
}
document.getElementById("snap").onclick = () => post("snapshot");
document.getElementById("stop").onclick = () => { if (confirm("Stop this run? It writes a snapshot first.")) post("stop"); };
document.querySelectorAll("nav a").forEach(a => a.onclick = () => showTab(a.dataset.tab));
refreshRuns(); setInterval(refreshRuns, 3000);
</script>
</body></html>
"""#
}
