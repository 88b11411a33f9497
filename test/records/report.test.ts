/** Report percentiles against exact nearest-rank values (HDR: 3 significant digits), grouping, costs and formats. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReport, buildRow } from '../../gateway/report/report.js';
import { formatCsv, formatTable } from '../../gateway/report/format-report.js';
import type { RequestRecord } from '../../gateway/records/request-record.js';
import { costOf } from '../../gateway/records/request-record.js';

function rec(over: Partial<RequestRecord>): RequestRecord {
  return {
    id: 'r',
    time: 1_700_000_000_000,
    key_id: 'k',
    tenant: 't',
    endpoint: 'chat.completions',
    model: 'm',
    served_model: 'm',
    destination: 'cloud-a',
    zone: 'cloud',
    rule: 'default',
    tags: [],
    cache: 'miss',
    status: 200,
    error: null,
    stream: false,
    prompt_tokens: 10,
    completion_tokens: 5,
    cost_usd: 0,
    all_cloud_cost_usd: 0,
    ttft_ms: 10,
    latency_ms: 20,
    attempts: 1,
    ...over,
  };
}

const nearestRank = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
};

describe('report', () => {
  it('percentiles match exact nearest-rank within 3 significant digits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 1, maxLength: 400 }), (lat) => {
        const row = buildRow(
          'g',
          lat.map((l) => rec({ latency_ms: l })),
        );
        for (const [p, got] of [
          [50, row.latency_p50_ms],
          [95, row.latency_p95_ms],
          [99, row.latency_p99_ms],
        ] as const) {
          const exact = nearestRank(lat, p);
          expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(1e-3 + 1e-9);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('groups by destination, model, tenant and rule with error and cache-hit rates and savings', () => {
    const prices = { models: { m: { input_per_m: 1, output_per_m: 2 } }, edge_per_m: 0 };
    const edgeCost = costOf(prices, 'm', 'edge', 1000, 1000);
    const cloudCost = costOf(prices, 'm', 'cloud', 1000, 1000);
    expect(edgeCost).toEqual({ cost: 0, allCloud: 0.003 });
    expect(cloudCost.cost).toBeCloseTo(0.003, 12);
    const rs = [
      rec({ destination: 'edge', zone: 'edge', cost_usd: 0, all_cloud_cost_usd: 0.003, cache: 'hit' }),
      rec({ destination: 'edge', zone: 'edge', cost_usd: 0, all_cloud_cost_usd: 0.003, status: 502, error: 'upstream_error' }),
      rec({ destination: 'cloud-a', cost_usd: 0.003, all_cloud_cost_usd: 0.003, tenant: 'u' }),
    ];
    const r = buildReport(rs, 0, Date.now());
    const edge = r.tables.destination!.find((x) => x.group === 'edge')!;
    expect(edge.requests).toBe(2);
    expect(edge.error_rate).toBe(0.5);
    expect(edge.cache_hit_rate).toBe(0.5);
    expect(edge.savings_usd).toBeCloseTo(0.006, 12);
    expect(r.tables.tenant!.map((x) => x.group).sort()).toEqual(['t', 'u']);
    expect(formatTable(r)).toContain('destination');
    const csv = formatCsv(r).trim().split('\n');
    expect(csv[0]!.startsWith('table,group,requests')).toBe(true);
    // Each table's rows, then its totals row.
    expect(csv.length).toBe(1 + (2 + 1) + (1 + 1) + (2 + 1) + (1 + 1));
  });

  it('closes every table with a totals row and states the savings vs all-cloud, in significant digits', () => {
    const rs = [
      rec({ destination: 'edge', zone: 'edge', cost_usd: 0, all_cloud_cost_usd: 0.00003 }),
      rec({ destination: 'edge', zone: 'edge', cost_usd: 0, all_cloud_cost_usd: 0.00003, cache: 'hit' }),
      rec({ destination: 'cloud-a', cost_usd: 0.00002, all_cloud_cost_usd: 0.00002 }),
    ];
    const r = buildReport(rs, 0, Date.now());
    expect(r.totals).toMatchObject({ group: 'total', requests: 3 });
    expect(r.totals.cost_usd).toBeCloseTo(0.00002, 12);
    expect(r.savings.saved_usd).toBeCloseTo(0.00006, 12);
    expect(r.savings.saved_fraction).toBeCloseTo(0.75, 12);
    const table = formatTable(r);
    expect(table).toContain('saved 75.0% ($0.0000600) vs all-cloud ($0.0000800); spent $0.0000200');
    // Small costs keep their digits instead of reading 0.0000.
    expect(table).not.toMatch(/\b0\.0000\b/);
    const lines = table.split('\n');
    const totalRow = lines.find((l) => l.startsWith('total '))!;
    expect(totalRow).toMatch(/^total\s+3\s/);
    expect(formatCsv(r)).toMatch(/\ndestination,"total",3,/);
    expect(JSON.parse(JSON.stringify(r)).savings.saved_fraction).toBeCloseTo(0.75, 12);
  });

  it('says savings are unknown when nothing had a cloud price', () => {
    const table = formatTable(buildReport([rec({ all_cloud_cost_usd: 0 })], 0, Date.now()));
    expect(table).toContain('savings vs all-cloud unknown: no request had a cloud price');
  });
});

/** A record of a request that went through a cascade (kept on the edge or escalated), or none. */
const cascaded = (cascade: 'kept' | 'escalated' | null, cost: number, allCloud: number): RequestRecord =>
  rec({
    served_model: null,
    destination: cascade === 'escalated' ? 'cloud' : 'edge',
    zone: cascade === 'escalated' ? 'cloud' : 'edge',
    rule: 'cascade',
    completion_tokens: 10,
    cost_usd: cost,
    all_cloud_cost_usd: allCloud,
    ttft_ms: 5,
    latency_ms: 10,
    cascade,
    cascade_score: null,
  });

describe('cascade in the report', () => {
  it('shows the kept share and what the kept answers saved', () => {
    const records = [
      cascaded('kept', 0, 0.01),
      cascaded('kept', 0.001, 0.01),
      cascaded('kept', 0, 0.02),
      cascaded('escalated', 0.01, 0.01),
      cascaded(null, 0.5, 0.5),
    ];
    const r = buildReport(records, 0, 1);
    expect(r.cascade).toEqual({ requests: 4, kept: 3, escalated: 1, kept_share: 0.75, kept_saved_usd: expect.closeTo(0.039, 12) });
    expect(formatTable(r)).toContain('cascade: edge kept 75.0% (3 of 4), escalated 1; the kept answers saved $0.0390 vs the cloud');
  });

  it('is absent when no request went through a cascade', () => {
    const r = buildReport([cascaded(null, 0.5, 0.5)], 0, 1);
    expect(r.cascade).toBeUndefined();
    expect(formatTable(r)).not.toContain('cascade:');
  });
});
