/** Report output as an aligned table, JSON or CSV (the HTML page lives in gateway/dashboard/). */
import type { GroupBy, Report, ReportRow } from './report.js';
import { formatUsd, savingsLine } from './format-money.js';
import type { CascadeSummary } from './cascade-summary.js';

const COLS: Array<[keyof ReportRow, string]> = [
  ['group', 'group'],
  ['requests', 'requests'],
  ['error_rate', 'errors'],
  ['cache_hit_rate', 'cache hits'],
  ['ttft_p50_ms', 'ttft p50'],
  ['ttft_p95_ms', 'ttft p95'],
  ['ttft_p99_ms', 'ttft p99'],
  ['latency_p50_ms', 'lat p50'],
  ['latency_p95_ms', 'lat p95'],
  ['latency_p99_ms', 'lat p99'],
  ['prompt_tokens', 'in tok'],
  ['completion_tokens', 'out tok'],
  ['cost_usd', 'cost $'],
  ['all_cloud_cost_usd', 'all-cloud $'],
  ['savings_usd', 'saved $'],
  ['savings_rate', 'saved %'],
];

function cell(k: keyof ReportRow, v: ReportRow[keyof ReportRow]): string {
  if (v === null) return '-';
  if (typeof v === 'number') {
    if (k.endsWith('_rate')) return `${(v * 100).toFixed(1)}%`;
    if (k.endsWith('_usd')) return formatUsd(v);
    return String(Math.round(v));
  }
  return v;
}

export function formatTable(report: Report): string {
  const out: string[] = [
    `${report.total} requests from ${new Date(report.from).toISOString()} to ${new Date(report.to).toISOString()}`,
    savingsLine(report.savings),
    ...(report.cascade ? [cascadeLine(report.cascade)] : []),
    ...report.notes.map((n) => `note: ${n}`),
  ];
  for (const [g, rows] of Object.entries(report.tables) as Array<[GroupBy, ReportRow[]]>) {
    const head = COLS.map(([, h]) => (h === 'group' ? g : h));
    // The totals row closes every table: the rows above add up to it.
    const body = [...rows, report.totals].map((r) => COLS.map(([k]) => cell(k, r[k])));
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    out.push('', head.map((h, i) => h.padEnd(widths[i]!)).join('  '), widths.map((w) => '-'.repeat(w)).join('  '));
    body.forEach((b, n) => {
      if (n === body.length - 1) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
      out.push(b.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    });
  }
  return out.join('\n') + '\n';
}

export function formatCsv(report: Report): string {
  const lines = [['table', ...COLS.map(([k]) => k)].join(',')];
  for (const [g, rows] of Object.entries(report.tables) as Array<[GroupBy, ReportRow[]]>) {
    for (const r of [...rows, report.totals])
      lines.push(
        [
          g,
          ...COLS.map(([k]) => {
            const v = r[k];
            return v === null ? '' : typeof v === 'string' ? `"${v.replace(/"/g, '""')}"` : String(v);
          }),
        ].join(','),
      );
  }
  return lines.join('\n') + '\n';
}

export function formatJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}

/** "cascade: edge kept 62.0% (31 of 50), escalated 19; the kept answers saved $0.0123 vs the cloud" */
function cascadeLine(c: CascadeSummary): string {
  return `cascade: edge kept ${(c.kept_share * 100).toFixed(1)}% (${c.kept} of ${c.requests}), escalated ${c.escalated}; the kept answers saved $${formatUsd(c.kept_saved_usd)} vs the cloud`;
}
