/**
 * Records as Workers Analytics Engine data points (queryable with SQL over the account's API). One point per request:
 * index = tenant (sampling key); blobs and doubles in the fixed order below, which the SQL columns blob1.. / double1.. follow.
 */
import type { RecordSink } from '../records/record-queue.js';
import type { RequestRecord } from '../records/request-record.js';
import type { AnalyticsEngineDataset } from './worker-env.js';

/** blob1..blob10 */
export const RECORD_BLOBS = ['id', 'key_id', 'endpoint', 'model', 'served_model', 'destination', 'zone', 'rule', 'cache', 'error'] as const;
/** double1..double9 */
export const RECORD_DOUBLES = [
  'status',
  'prompt_tokens',
  'completion_tokens',
  'cost_usd',
  'all_cloud_cost_usd',
  'ttft_ms',
  'latency_ms',
  'attempts',
  'stream',
] as const;

export class AnalyticsEngineSink implements RecordSink {
  constructor(private readonly dataset: AnalyticsEngineDataset) {}

  async write(batch: readonly RequestRecord[]): Promise<void> {
    for (const r of batch) {
      this.dataset.writeDataPoint({
        indexes: [r.tenant],
        blobs: RECORD_BLOBS.map((k) => r[k]),
        doubles: RECORD_DOUBLES.map((k) => (k === 'stream' ? (r.stream ? 1 : 0) : (r[k] ?? -1))),
      });
    }
  }

  async close(): Promise<void> {}
}
