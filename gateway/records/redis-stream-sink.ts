/** Records on a Redis stream shared by replicas, trimmed to about `maxLen` entries. */
import type { RedisClient } from '../redis/redis-connection.js';
import type { RecordSink } from './record-queue.js';
import { requestRecordSchema, type RequestRecord } from './request-record.js';

export class RedisStreamSink implements RecordSink {
  constructor(
    private readonly redis: RedisClient,
    private readonly stream: string,
    private readonly maxLen: number,
  ) {}

  async write(batch: readonly RequestRecord[]): Promise<void> {
    const p = this.redis.pipeline();
    for (const r of batch) p.xadd(this.stream, 'MAXLEN', '~', String(this.maxLen), '*', 'r', JSON.stringify(r));
    const results = await p.exec();
    const err = results?.find(([e]) => e)?.[0];
    if (err) throw err;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Reads [from, to) from the stream; says whether the window starts before the oldest retained entry. */
export async function readStreamRecords(
  redis: RedisClient,
  stream: string,
  from: number,
  to: number,
): Promise<{ records: RequestRecord[]; truncated: boolean }> {
  const oldest = await redis.xrange(stream, '-', '+', 'COUNT', 1);
  const oldestTime = oldest[0] ? Number(oldest[0][0].split('-')[0]) : Infinity;
  // Trimmed means more entries were ever added than the stream holds now (XINFO's entries-added, Redis 7).
  let trimmed = false;
  if (oldest.length > 0) {
    const info = (await redis.call('XINFO', 'STREAM', stream)) as unknown[];
    const field = (name: string) => Number(info[info.indexOf(name) + 1]);
    trimmed = field('entries-added') > field('length');
  }
  // Entry ids are write times; a record is written when its request ends, so read from the window's start onwards
  // and keep what started inside it.
  const entries = await redis.xrange(stream, String(from), '+');
  const records: RequestRecord[] = [];
  for (const [, fields] of entries) {
    const parsed = requestRecordSchema.safeParse(JSON.parse(fields[1] ?? 'null'));
    if (parsed.success && parsed.data.time >= from && parsed.data.time < to) records.push(parsed.data);
  }
  return { records, truncated: trimmed && oldestTime > from };
}
