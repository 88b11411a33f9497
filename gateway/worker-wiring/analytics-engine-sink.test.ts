/** Records as Analytics Engine data points: the tenant as index, blobs and doubles in the documented column order. */
import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../records/request-record.js';
import { AnalyticsEngineSink, RECORD_BLOBS, RECORD_DOUBLES } from './analytics-engine-sink.js';

const record: RequestRecord = {
  id: 'r1',
  time: 1,
  key_id: 'alice',
  tenant: 'acme',
  endpoint: 'chat.completions',
  model: 'gpt-4o-mini',
  served_model: 'gpt-4o-mini',
  destination: 'edge',
  zone: 'edge',
  rule: 'pii',
  tags: ['pii'],
  cache: 'miss',
  status: 200,
  error: null,
  stream: true,
  prompt_tokens: 12,
  completion_tokens: 30,
  cost_usd: 0,
  all_cloud_cost_usd: 0.0004,
  ttft_ms: null,
  latency_ms: 250,
  attempts: 1,
};

describe('AnalyticsEngineSink', () => {
  it('writes one point per record in the documented order', async () => {
    const points: unknown[] = [];
    await new AnalyticsEngineSink({ writeDataPoint: (p) => void points.push(p) }).write([record, { ...record, id: 'r2', tenant: 'other' }]);
    expect(points).toHaveLength(2);
    expect(points[0]).toEqual({
      indexes: ['acme'],
      blobs: ['r1', 'alice', 'chat.completions', 'gpt-4o-mini', 'gpt-4o-mini', 'edge', 'edge', 'pii', 'miss', null],
      doubles: [200, 12, 30, 0, 0.0004, -1, 250, 1, 1],
    });
    expect(RECORD_BLOBS).toHaveLength(10);
    expect(RECORD_DOUBLES).toHaveLength(9);
  });
});
