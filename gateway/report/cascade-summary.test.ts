import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../records/request-record.js';
import { buildReport } from './report.js';
import { formatTable } from './format-report.js';

const rec = (cascade: 'kept' | 'escalated' | null, cost: number, allCloud: number): RequestRecord => ({
  id: 'r',
  time: 1_700_000_000_000,
  key_id: 'k',
  tenant: 't',
  endpoint: 'chat.completions',
  model: 'm',
  served_model: null,
  destination: cascade === 'escalated' ? 'cloud' : 'edge',
  zone: cascade === 'escalated' ? 'cloud' : 'edge',
  rule: 'cascade',
  tags: [],
  cache: 'miss',
  status: 200,
  error: null,
  stream: false,
  prompt_tokens: 10,
  completion_tokens: 10,
  cost_usd: cost,
  all_cloud_cost_usd: allCloud,
  ttft_ms: 5,
  latency_ms: 10,
  attempts: 1,
  cascade,
  cascade_score: null,
});

describe('cascade in the report', () => {
  it('shows the kept share and what the kept answers saved', () => {
    const records = [rec('kept', 0, 0.01), rec('kept', 0.001, 0.01), rec('kept', 0, 0.02), rec('escalated', 0.01, 0.01), rec(null, 0.5, 0.5)];
    const r = buildReport(records, 0, 1);
    expect(r.cascade).toEqual({ requests: 4, kept: 3, escalated: 1, kept_share: 0.75, kept_saved_usd: expect.closeTo(0.039, 12) });
    expect(formatTable(r)).toContain('cascade: edge kept 75.0% (3 of 4), escalated 1; the kept answers saved $0.0390 vs the cloud');
  });

  it('is absent when no request went through a cascade', () => {
    const r = buildReport([rec(null, 0.5, 0.5)], 0, 1);
    expect(r.cascade).toBeUndefined();
    expect(formatTable(r)).not.toContain('cascade:');
  });
});
