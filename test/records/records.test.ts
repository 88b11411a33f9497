/** Records through a real gateway: JSONL with rotation, a Redis stream, bounded queue with counted drops; no content or keys. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { readJsonlRecords } from '../../gateway/records/jsonl-sink.js';
import { readStreamRecords } from '../../gateway/records/redis-stream-sink.js';
import { BATCH_WINDOW_MS, RecordQueue, type RecordSink } from '../../gateway/records/record-queue.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import type { RequestRecord } from '../../gateway/records/request-record.js';

let fake: FakeOpenAI;
let redis: TestRedis;
const SECRET_PROMPT = 'my card is 4111 1111 1111 1111';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  redis = await startRedis();
});
afterAll(async () => {
  await fake?.close();
  await redis?.stop();
});

describe('records', () => {
  it('writes one JSONL record per request, with rotation, costs, and no content or key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-records-'));
    const key = 'sk-sy-records-key-0123456789';
    const gw = await startTestGateway({
      records: { sink: 'jsonl', dir, max_file_bytes: 2000 },
      prices: { models: { 'gpt-a': { input_per_m: 1000, output_per_m: 2000 } } },
      upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }],
      keys: [{ id: 'rec-key', sha256: await sha256Hex(key), tenant: 'acme' }],
    });
    const client = new (await import('openai')).default({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
    for (let i = 0; i < 12; i++) await client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: SECRET_PROMPT }] });
    await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    await gw.shutdown(); // flushes the queue
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(1); // rotated by size
    const raw = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(raw).not.toContain('4111');
    expect(raw).not.toContain(key);
    const { records } = await readJsonlRecords(dir, 0, Date.now() + 1);
    // Every request leaves a record, failures included.
    expect(records).toHaveLength(13);
    expect(records.filter((x) => x.status === 404 && x.error === 'model_not_found')).toHaveLength(1);
    const r = records.find((x) => x.status === 200)!;
    expect(r.key_id).toBe('rec-key');
    expect(r.tenant).toBe('acme');
    expect(r.destination).toBe('fakecloud');
    expect(r.prompt_tokens).toBeGreaterThan(0);
    expect(r.cost_usd).toBeCloseTo((r.prompt_tokens * 1000 + r.completion_tokens * 2000) / 1e6, 9);
  });

  it('writes to a Redis stream that reports read back', async () => {
    const gw = await startTestGateway({
      redis: { url: redis.url, command_timeout_ms: 2000 },
      records: { sink: 'redis', redis_stream: 'test:records', max_len: 1000 },
      upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }],
    });
    for (let i = 0; i < 5; i++) await gw.client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: `hi ${i}` }] });
    await gw.shutdown();
    const client = new Redis(redis.url);
    const { records, truncated } = await readStreamRecords(client, 'test:records', Date.now() - 60_000, Date.now() + 1);
    client.disconnect();
    expect(records).toHaveLength(5);
    expect(truncated).toBe(false);
  });

  it('says when a window reaches past what a trimmed stream retains', async () => {
    const client = new Redis(redis.url);
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) await client.xadd('test:trimmed', 'MAXLEN', '100', '*', 'r', JSON.stringify({ id: `${i}` }));
    const { truncated } = await readStreamRecords(client, 'test:trimmed', t0 - 60_000, Date.now() + 1);
    client.disconnect();
    expect(truncated).toBe(true);
  });

  it('drops and counts records when the sink falls behind, never blocking', async () => {
    let release: () => void = () => undefined;
    const stuck: RecordSink = { write: () => new Promise<void>((r) => (release = r)), close: async () => undefined };
    const q = new RecordQueue(stuck, 5);
    const rec = { id: 'x' } as RequestRecord;
    for (let i = 0; i < 20; i++) q.push(rec);
    expect(q.dropped).toBe(15);
    release();
  });

  it('writes at most one batch per window while records keep arriving, and loses none', async () => {
    const writes: number[] = [];
    const sink: RecordSink = {
      // A write takes a few ms, as a file write through the thread pool does: before the fix, the queue wrote again
      // as soon as a write finished, with whatever had arrived meanwhile.
      write: async (batch) => {
        writes.push(batch.length);
        await new Promise((r) => setTimeout(r, 3));
      },
      close: async () => undefined,
    };
    const q = new RecordQueue(sink, 10_000);
    const rec = { id: 'x' } as RequestRecord;
    const t0 = performance.now();
    let pushed = 0;
    // A record arrives every ~1 ms for ~200 ms.
    while (performance.now() - t0 < 200) {
      q.push(rec);
      pushed++;
      await new Promise((r) => setTimeout(r, 1));
    }
    const elapsed = performance.now() - t0;
    await q.flush();
    expect(writes.reduce((a, b) => a + b, 0)).toBe(pushed);
    // Timers never fire early: one window allows at most elapsed/BATCH_WINDOW_MS writes, plus the final flush.
    expect(writes.length).toBeLessThanOrEqual(Math.floor(elapsed / BATCH_WINDOW_MS) + 2);
  });
});
