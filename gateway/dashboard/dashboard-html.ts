/**
 * The report page: latency percentiles over time, cost and savings by destination, cache hit rate and routing mix.
 * Self-contained: Chart.js comes from the package (served beside the page, or inlined for `report --format html`).
 */
import type { Report } from '../report/report.js';

const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' })[c]!);

export function dashboardHtml(opts: { report?: Report; chartJs?: string; dataUrl?: string; chartUrl?: string }): string {
  const script = opts.chartJs
    ? `<script>${opts.chartJs.replace(/<\/script/gi, '<\\/script')}</script>`
    : `<script src="${opts.chartUrl ?? '/dashboard/chart.js'}"></script>`;
  const data = opts.report ? `const REPORT = ${esc(JSON.stringify(opts.report))};` : `const REPORT = null;`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#1d2330;background:#f7f8fa}
h1{font-size:20px;margin:0 0 4px} .sub{color:#667;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card h2{font-size:14px;margin:0 0 8px;color:#445} canvas{width:100%!important;height:260px!important}
table{border-collapse:collapse;font-size:12px;width:100%} td,th{padding:4px 6px;border-bottom:1px solid #eee;text-align:right} td:first-child,th:first-child{text-align:left}
</style>${script}</head>
<body><h1>Switchyard: cost, latency and routing</h1><div class="sub" id="sub">loading…</div>
<div class="grid">
<div class="card"><h2>Latency over time (ms)</h2><canvas id="latency"></canvas></div>
<div class="card"><h2>Cost and savings by destination (USD)</h2><canvas id="cost"></canvas></div>
<div class="card"><h2>Cache hit rate by model</h2><canvas id="cache"></canvas></div>
<div class="card"><h2>Routing mix</h2><canvas id="mix"></canvas></div>
<div class="card" style="grid-column:1/-1"><h2>By destination</h2><table id="dest"></table></div>
</div>
<script>
${data}
async function load() {
  const r = REPORT ?? await (await fetch(${JSON.stringify(opts.dataUrl ?? '/dashboard/data.json')})).json();
  document.getElementById('sub').textContent = r.total + ' requests, ' + new Date(r.from).toISOString() + ' to ' + new Date(r.to).toISOString() + (r.notes.length ? ' (' + r.notes.join('; ') + ')' : '');
  const anim = { animation: false, responsive: true, maintainAspectRatio: false };
  const t = r.series.map((s) => new Date(s.t).toISOString().slice(11, 16));
  new Chart(document.getElementById('latency'), { type: 'line', options: anim, data: { labels: t, datasets: [
    { label: 'p50', data: r.series.map((s) => s.latency_p50_ms), borderColor: '#3b82f6', backgroundColor: '#3b82f6' },
    { label: 'p95', data: r.series.map((s) => s.latency_p95_ms), borderColor: '#ef4444', backgroundColor: '#ef4444' } ] } });
  const dest = r.tables.destination ?? [];
  new Chart(document.getElementById('cost'), { type: 'bar', options: anim, data: { labels: dest.map((d) => d.group), datasets: [
    { label: 'cost', data: dest.map((d) => d.cost_usd), backgroundColor: '#f59e0b' },
    { label: 'saved vs all-cloud', data: dest.map((d) => d.savings_usd), backgroundColor: '#10b981' } ] } });
  const models = r.tables.model ?? [];
  new Chart(document.getElementById('cache'), { type: 'bar', options: anim, data: { labels: models.map((m) => m.group), datasets: [
    { label: 'cache hit rate %', data: models.map((m) => +(m.cache_hit_rate * 100).toFixed(1)), backgroundColor: '#8b5cf6' } ] } });
  new Chart(document.getElementById('mix'), { type: 'doughnut', options: anim, data: { labels: dest.map((d) => d.group), datasets: [
    { data: dest.map((d) => d.requests), backgroundColor: ['#3b82f6', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6', '#14b8a6'] } ] } });
  const cols = ['group', 'requests', 'error_rate', 'cache_hit_rate', 'ttft_p95_ms', 'latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms', 'cost_usd', 'savings_usd'];
  const tbl = document.getElementById('dest');
  tbl.innerHTML = '<tr>' + cols.map((c) => '<th>' + c + '</th>').join('') + '</tr>';
  for (const d of dest) {
    const tr = document.createElement('tr');
    for (const c of cols) { const td = document.createElement('td'); const v = d[c]; td.textContent = v === null ? '-' : typeof v === 'number' ? (c.endsWith('rate') ? (v * 100).toFixed(1) + '%' : c.endsWith('usd') ? v.toFixed(4) : String(Math.round(v))) : v; tr.appendChild(td); }
    tbl.appendChild(tr);
  }
}
load();
</script></body></html>`;
}
