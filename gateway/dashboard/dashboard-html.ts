/**
 * The report page: savings vs all-cloud, latency percentiles over time, cost and savings by destination, cache hit
 * rate and routing mix. Self-contained: Chart.js comes from the package (served beside the page, or inlined for
 * `report --format html`). Live pages have a time-range picker and auto-refresh; a report file shows its own window.
 */
import type { Report } from '../report/report.js';
import { formatUsd, savingsLine } from '../report/format-money.js';

const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '\\u003c', '>': '\\u003e', '&': '\\u0026' })[c]!);

export const DASHBOARD_RANGES = ['15m', '1h', '6h', '24h', '7d', '30d'] as const;
export const REFRESH_SECONDS = 30;

/** Column headers people read, for the raw field names of a report row. */
const COLUMNS: Array<[string, string]> = [
  ['group', 'destination'],
  ['requests', 'requests'],
  ['error_rate', 'errors'],
  ['cache_hit_rate', 'cache hits'],
  ['ttft_p95_ms', 'TTFT p95 (ms)'],
  ['latency_p50_ms', 'latency p50 (ms)'],
  ['latency_p95_ms', 'latency p95 (ms)'],
  ['latency_p99_ms', 'latency p99 (ms)'],
  ['cost_usd', 'cost ($)'],
  ['all_cloud_cost_usd', 'all-cloud ($)'],
  ['savings_usd', 'saved ($)'],
  ['savings_rate', 'saved (%)'],
];

export function dashboardHtml(opts: {
  report?: Report;
  chartJs?: string;
  dataUrl?: string;
  chartUrl?: string;
  since?: string;
  /** Auto-refresh period (live pages); REFRESH_SECONDS by default. */
  refreshSeconds?: number;
  /** Signed in with a session cookie: offer to sign out. */
  signOut?: boolean;
}): string {
  const refresh = opts.refreshSeconds ?? REFRESH_SECONDS;
  const script = opts.chartJs
    ? `<script>${opts.chartJs.replace(/<\/script/gi, '<\\/script')}</script>`
    : `<script src="${opts.chartUrl ?? '/dashboard/chart.js'}"></script>`;
  const data = opts.report ? `const REPORT = ${esc(JSON.stringify(opts.report))};` : `const REPORT = null;`;
  const since = opts.since ?? '1h';
  const live = !opts.report;
  const ranges = (DASHBOARD_RANGES as readonly string[]).includes(since) ? DASHBOARD_RANGES : [since, ...DASHBOARD_RANGES];
  const controls = live
    ? `<div class="controls"><label>time range <select id="since">${ranges
        .map((r) => `<option value="${r}"${r === since ? ' selected' : ''}>last ${r}</option>`)
        .join('')}</select></label>
<label><input type="checkbox" id="auto" checked> refresh every ${refresh} s</label><span id="updated"></span>${
        opts.signOut ? '<form method="post" action="/dashboard/logout" style="margin-left:auto"><button id="signout">sign out</button></form>' : ''
      }</div>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#1d2330;background:#f7f8fa}
h1{font-size:20px;margin:0 0 4px} .sub{color:#667;margin-bottom:8px} .savings{font-size:16px;font-weight:600;margin-bottom:12px}
.controls{display:flex;gap:16px;align-items:center;margin-bottom:16px;font-size:13px;color:#445} #updated{color:#889}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.card h2{font-size:14px;margin:0 0 8px;color:#445} canvas{width:100%!important;height:260px!important}
table{border-collapse:collapse;font-size:12px;width:100%} td,th{padding:4px 6px;border-bottom:1px solid #eee;text-align:right} td:first-child,th:first-child{text-align:left}
tr.total td{font-weight:600;border-top:2px solid #ccd}
</style>${script}</head>
<body><h1>Switchyard: cost, latency and routing</h1><div class="sub" id="sub">loading…</div>
<div class="savings" id="savings"></div>
${controls}
<div class="grid">
<div class="card"><h2>Latency over time (ms)</h2><canvas id="latency"></canvas></div>
<div class="card"><h2>Cost and savings by destination (USD)</h2><canvas id="cost"></canvas></div>
<div class="card"><h2>Cache hit rate by model (%)</h2><canvas id="cache"></canvas></div>
<div class="card"><h2>Routing mix (requests by destination)</h2><canvas id="mix"></canvas></div>
<div class="card" style="grid-column:1/-1"><h2>By destination</h2><table id="dest"></table></div>
</div>
<script>
${data}
${formatUsd.toString()}
${savingsLine.toString()}
const COLUMNS = ${JSON.stringify(COLUMNS)};
const DATA_URL = ${JSON.stringify(opts.dataUrl ?? '/dashboard/data.json')};
const charts = {};
// A fresh options object per chart: Chart.js writes resolved defaults into the object it is given, so one shared
// object makes a bar chart inherit a line chart's x offset (bars cut in half) and a doughnut inherit axes.
function options(id, kind) {
  const o = { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } };
  if (kind === 'bar') o.scales = { x: { offset: true }, y: { beginAtZero: true } };
  if (kind === 'line') o.scales = { y: { beginAtZero: true } };
  if (id === 'cost') o.scales.y.ticks = { callback: (v) => '$' + formatUsd(v) };
  if (id === 'cache') o.scales.y.max = 100;
  return o;
}
function draw(id, type, data) {
  charts[id]?.destroy();
  charts[id] = new Chart(document.getElementById(id), { type, options: options(id, type), data });
}
function cell(c, v) {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return v;
  if (c.endsWith('_rate')) return (v * 100).toFixed(1) + '%';
  if (c.endsWith('_usd')) return formatUsd(v);
  return String(Math.round(v));
}
function render(r) {
  document.getElementById('sub').textContent = r.total + ' requests, ' + new Date(r.from).toISOString() + ' to ' + new Date(r.to).toISOString() + (r.notes.length ? ' (' + r.notes.join('; ') + ')' : '');
  document.getElementById('savings').textContent = savingsLine(r.savings);
  const t = r.series.map((s) => new Date(s.t).toISOString().slice(11, 16));
  draw('latency', 'line', { labels: t, datasets: [
    { label: 'p50', data: r.series.map((s) => s.latency_p50_ms), borderColor: '#3b82f6', backgroundColor: '#3b82f6' },
    { label: 'p95', data: r.series.map((s) => s.latency_p95_ms), borderColor: '#ef4444', backgroundColor: '#ef4444' } ] });
  const dest = r.tables.destination ?? [];
  draw('cost', 'bar', { labels: dest.map((d) => d.group), datasets: [
    { label: 'cost', data: dest.map((d) => d.cost_usd), backgroundColor: '#f59e0b' },
    { label: 'saved vs all-cloud', data: dest.map((d) => d.savings_usd), backgroundColor: '#10b981' } ] });
  const models = r.tables.model ?? [];
  draw('cache', 'bar', { labels: models.map((m) => m.group), datasets: [
    { label: 'cache hit rate %', data: models.map((m) => +(m.cache_hit_rate * 100).toFixed(1)), backgroundColor: '#8b5cf6' } ] });
  draw('mix', 'doughnut', { labels: dest.map((d) => d.group), datasets: [
    { data: dest.map((d) => d.requests), backgroundColor: ['#3b82f6', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6', '#14b8a6'] } ] });
  const tbl = document.getElementById('dest');
  tbl.innerHTML = '';
  const head = document.createElement('tr');
  for (const [, label] of COLUMNS) { const th = document.createElement('th'); th.textContent = label; head.appendChild(th); }
  tbl.appendChild(head);
  for (const d of [...dest, r.totals]) {
    const tr = document.createElement('tr');
    if (d === r.totals) tr.className = 'total';
    for (const [c] of COLUMNS) { const td = document.createElement('td'); td.textContent = cell(c, d[c]); tr.appendChild(td); }
    tbl.appendChild(tr);
  }
}
async function load() {
  if (REPORT) return render(REPORT);
  const since = document.getElementById('since').value;
  const res = await fetch(DATA_URL + '?since=' + encodeURIComponent(since), { credentials: 'same-origin' });
  if (res.status === 401 || res.status === 403) { location.reload(); return; }
  render(await res.json());
  document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
}
if (!REPORT) {
  const pick = document.getElementById('since');
  pick.addEventListener('change', () => {
    const u = new URL(location.href);
    u.searchParams.set('since', pick.value);
    history.replaceState(null, '', u);
    load();
  });
  setInterval(() => { if (document.getElementById('auto').checked) load(); }, ${refresh * 1000});
}
load();
</script></body></html>`;
}

/** The sign-in page for keyed deployments: an admin key is exchanged for an HttpOnly session cookie. */
export function dashboardLoginHtml(opts: { error?: string; since?: string }): string {
  const err = opts.error ? `<p class="err">${opts.error.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>` : '';
  const since = opts.since ? `<input type="hidden" name="since" value="${opts.since.replace(/[^0-9a-z]/g, '')}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard: sign in</title><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;background:#f7f8fa;color:#1d2330;display:grid;place-items:center;height:100vh;margin:0}
form{background:#fff;padding:24px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);width:360px}
input[type=password]{width:100%;padding:8px;margin:8px 0 12px;box-sizing:border-box} .err{color:#b91c1c} small{color:#667}</style></head>
<body><form method="post" action="/dashboard/login"><h1 style="font-size:18px">Switchyard dashboard</h1>${err}
<label for="key">Admin key</label><input type="password" id="key" name="key" autocomplete="current-password" required autofocus>${since}
<button type="submit">Sign in</button><p><small>The key is checked once and exchanged for a session cookie; it is not stored in the browser.</small></p></form></body></html>`;
}
