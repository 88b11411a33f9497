/** Records as log lines: `{"switchyard_record": {...}}` on stdout, collected by Workers Logs / `wrangler tail` / Logpush. */
import type { RecordSink } from '../records/record-queue.js';
import type { RequestRecord } from '../records/request-record.js';

export class LogLineSink implements RecordSink {
  async write(batch: readonly RequestRecord[]): Promise<void> {
    for (const r of batch) console.log(JSON.stringify({ switchyard_record: r }));
  }

  async close(): Promise<void> {}
}
