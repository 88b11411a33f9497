/**
 * Aggregates records into report tables by destination, model, tenant and rule: requests, error and cache-hit rates,
 * TTFT and latency percentiles (HDR histograms, 3 significant digits), tokens, cost and savings against all-cloud.
 */
import * as hdr from 'hdr-histogram-js';
import type { RequestRecord } from '../records/request-record.js';
import { cascadeSummary, type CascadeSummary } from './cascade-summary.js';

export const GROUPS = ['destination', 'model', 'tenant', 'rule'] as const;
export type GroupBy = (typeof GROUPS)[number];

export interface ReportRow {
  group: string;
  requests: number;
  error_rate: number;
  cache_hit_rate: number;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  ttft_p99_ms: number | null;
  latency_p50_ms: number;
  latency_p95_ms: number;
  latency_p99_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  all_cloud_cost_usd: number;
  savings_usd: number;
  /** savings / all-cloud, 0..1; null when nothing in the row had a cloud price. */
  savings_rate: number | null;
}

/** What routing saved against sending every request to the cloud (cache hits included: they cost nothing). */
export interface Savings {
  cost_usd: number;
  all_cloud_cost_usd: number;
  saved_usd: number;
  /** saved / all-cloud, 0..1; null when no request had a cloud price to compare against. */
  saved_fraction: number | null;
}

export interface Report {
  from: number;
  to: number;
  total: number;
  /** Every request in the window as one row (each table's rows add up to it). */
  totals: ReportRow;
  savings: Savings;
  /** The edge-first cascade's kept share and the savings it bought; absent when no request went through one. */
  cascade?: CascadeSummary;
  tables: Partial<Record<GroupBy, ReportRow[]>>;
  /** Per 1-minute bucket: latency percentiles and counts, for the dashboard's time series. */
  series: Array<{ t: number; requests: number; latency_p50_ms: number; latency_p95_ms: number; cache_hits: number }>;
  notes: string[];
}

function histogram(): hdr.Histogram {
  // Microsecond-ish resolution not needed: milliseconds up to an hour, 3 significant digits.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 'packed',
    useWebAssembly: false,
  });
}

function keyOf(r: RequestRecord, g: GroupBy): string {
  const v = g === 'destination' ? r.destination : g === 'model' ? r.model : g === 'tenant' ? r.tenant : r.rule;
  return v ?? '(none)';
}

export function buildRow(group: string, rs: readonly RequestRecord[]): ReportRow {
  const lat = histogram();
  const ttft = histogram();
  let errors = 0;
  let hits = 0;
  let ttftCount = 0;
  let prompt = 0;
  let completion = 0;
  let cost = 0;
  let cloud = 0;
  for (const r of rs) {
    lat.recordValue(Math.max(1, Math.round(r.latency_ms)));
    if (r.ttft_ms !== null) {
      ttft.recordValue(Math.max(1, Math.round(r.ttft_ms)));
      ttftCount++;
    }
    if (r.status >= 400 || r.error) errors++;
    if (r.cache === 'hit') hits++;
    prompt += r.prompt_tokens;
    completion += r.completion_tokens;
    cost += r.cost_usd;
    cloud += r.all_cloud_cost_usd;
  }
  const p = (h: hdr.Histogram, q: number) => h.getValueAtPercentile(q);
  return {
    group,
    requests: rs.length,
    error_rate: rs.length ? errors / rs.length : 0,
    cache_hit_rate: rs.length ? hits / rs.length : 0,
    ttft_p50_ms: ttftCount ? p(ttft, 50) : null,
    ttft_p95_ms: ttftCount ? p(ttft, 95) : null,
    ttft_p99_ms: ttftCount ? p(ttft, 99) : null,
    latency_p50_ms: p(lat, 50),
    latency_p95_ms: p(lat, 95),
    latency_p99_ms: p(lat, 99),
    prompt_tokens: prompt,
    completion_tokens: completion,
    cost_usd: cost,
    all_cloud_cost_usd: cloud,
    savings_usd: cloud - cost,
    savings_rate: cloud > 0 ? (cloud - cost) / cloud : null,
  };
}

export function buildReport(
  records: readonly RequestRecord[],
  from: number,
  to: number,
  groups: readonly GroupBy[] = GROUPS,
  notes: string[] = [],
): Report {
  const tables: Report['tables'] = {};
  for (const g of groups) {
    const by = new Map<string, RequestRecord[]>();
    for (const r of records) by.set(keyOf(r, g), [...(by.get(keyOf(r, g)) ?? []), r]);
    tables[g] = [...by.entries()].map(([k, rs]) => buildRow(k, rs)).sort((a, b) => b.requests - a.requests);
  }
  const buckets = new Map<number, RequestRecord[]>();
  for (const r of records) {
    const t = Math.floor(r.time / 60_000) * 60_000;
    buckets.set(t, [...(buckets.get(t) ?? []), r]);
  }
  const series = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, rs]) => {
      const row = buildRow('', rs);
      return {
        t,
        requests: rs.length,
        latency_p50_ms: row.latency_p50_ms,
        latency_p95_ms: row.latency_p95_ms,
        cache_hits: rs.filter((r) => r.cache === 'hit').length,
      };
    });
  const totals = buildRow('total', records);
  const savings: Savings = {
    cost_usd: totals.cost_usd,
    all_cloud_cost_usd: totals.all_cloud_cost_usd,
    saved_usd: totals.savings_usd,
    saved_fraction: totals.all_cloud_cost_usd > 0 ? totals.savings_usd / totals.all_cloud_cost_usd : null,
  };
  const cascade = cascadeSummary(records);
  return { from, to, total: records.length, totals, savings, ...(cascade ? { cascade } : {}), tables, series, notes };
}
