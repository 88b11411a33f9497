/**
 * Session tables and where masked values may (not) go: the same value keeps its placeholder across the turns of a
 * session (and only that session), an answer naming an earlier turn's placeholder is unmasked, and neither the result
 * cache (real redis-server) nor the records hold an original value, while the client still gets it back.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

const POLICY = [
  'version: 1',
  'tags:',
  '  pii: { route: redact, reversible: true }',
  'rules:',
  '  - id: cached',
  '    match: { models: [cached] }',
  '    route: [cloud]',
  '    cache: { enabled: true, ttl_seconds: 60 }',
  '  - id: all',
  '    route: [cloud, fixed]',
  '',
].join('\n');

let cloud: FakeOpenAI;
let fixed: FakeOpenAI;
let redis: TestRedis;
let gw: TestGateway;
let records: string;

beforeAll(async () => {
  cloud = await startFakeOpenAI();
  // A model that names the first masked value of the session, whatever this turn contains.
  fixed = await startFakeOpenAI({ reply: 'I already wrote to [REDACTED:email:1].' });
  redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), 'sy-masking-store-'));
  records = join(dir, 'records');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  gw = await startTestGateway({
    policies: { file: join(dir, 'policy.yaml') },
    redis: { url: redis.url, command_timeout_ms: 500 },
    cache: { backend: 'redis', command_timeout_ms: 500 },
    records: { sink: 'jsonl', dir: records },
    upstreams: [
      { id: 'cloud', url: cloud.url, models: ['m', 'cached'] },
      { id: 'fixed', url: fixed.url, models: ['fixed'] },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
  await fixed?.close();
  await redis?.stop();
});

const lastSent = (f: FakeOpenAI) => JSON.stringify(f.requests.at(-1)!.body);

describe('session tables', () => {
  it('keep one placeholder per value across the turns of a session, and only within it', async () => {
    const s1 = { headers: { 'x-switchyard-session': 'chat-1' } };
    await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'mail ada@example.com' }] }, s1);
    expect(lastSent(cloud)).toContain('mail [REDACTED:email:1]');
    await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'now bob@example.com and ada@example.com' }] }, s1);
    expect(lastSent(cloud)).toContain('now [REDACTED:email:2] and [REDACTED:email:1]');
    // Another session (and a request with none) numbers from its own first value.
    await gw.client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'now bob@example.com and ada@example.com' }] },
      { headers: { 'x-switchyard-session': 'chat-2' } },
    );
    expect(lastSent(cloud)).toContain('now [REDACTED:email:1] and [REDACTED:email:2]');
    // The OpenAI `user` field names a session too.
    await gw.client.chat.completions.create({ model: 'm', user: 'u-7', messages: [{ role: 'user', content: 'x bob@example.com' }] });
    await gw.client.chat.completions.create({ model: 'm', user: 'u-7', messages: [{ role: 'user', content: 'y ada@example.com' }] });
    expect(lastSent(cloud)).toContain('y [REDACTED:email:2]');
  });

  it('unmask an answer that names a value from an earlier turn of the session', async () => {
    const s = { headers: { 'x-switchyard-session': 'chat-3' } };
    await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'mail ada@example.com' }] }, s);
    const r = await gw.client.chat.completions.create({ model: 'fixed', messages: [{ role: 'user', content: 'and cc bob@example.com' }] }, s);
    expect(lastSent(fixed)).toContain('and cc [REDACTED:email:2]');
    expect(r.choices[0]!.message.content).toBe('I already wrote to ada@example.com.');
    const stream = await gw.client.chat.completions.create(
      { model: 'fixed', stream: true, messages: [{ role: 'user', content: 'and cc bob@example.com' }] },
      s,
    );
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('I already wrote to ada@example.com.');
  });
});

describe('originals stay out of the cache and the records', () => {
  it('caches and records only the masked request and answer; clients, hits included, get the originals', async () => {
    const ask = { model: 'cached', temperature: 0, messages: [{ role: 'user' as const, content: 'reply to grace.hopper@navy.example.mil' }] };
    const first = await gw.client.chat.completions.create(ask);
    const hit = await gw.client.chat.completions.create(ask);
    const streamed = await gw.client.chat.completions.create({
      ...ask,
      stream: true,
      messages: [{ role: 'user', content: 'stream to grace.hopper@navy.example.mil' }],
    });
    let text = '';
    for await (const c of streamed) text += c.choices[0]?.delta.content ?? '';
    expect(first.choices[0]!.message.content).toBe('echo: reply to grace.hopper@navy.example.mil');
    expect(hit.choices[0]!.message.content).toBe('echo: reply to grace.hopper@navy.example.mil');
    expect(text).toBe('echo: stream to grace.hopper@navy.example.mil');
    expect(cloud.requests.filter((r) => JSON.stringify(r.body).includes('reply to'))).toHaveLength(1); // the second was a hit

    const client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true });
    await client.connect();
    let stored = '';
    await waitUntil(
      async () => {
        const keys = await client.keys('*');
        const values = await Promise.all(keys.map((k) => client.type(k).then((t) => (t === 'string' ? client.get(k) : client.dump(k).then(String)))));
        stored = keys.join('\n') + values.join('\n');
        return stored.includes('stream to');
      },
      { message: 'both answers cached' },
    );
    await client.quit();
    expect(stored).toContain('reply to [REDACTED:email:1]');
    expect(stored).not.toContain('grace.hopper');

    // Records are batched off the request path: wait for both of this test's records (miss and hit), not any lines.
    const cachedRecords = () => (readdirSync(records).length > 0 ? allRecords().split('"model":"cached"').length - 1 : 0);
    await waitUntil(() => cachedRecords() >= 2, { message: 'both records of the cached model written' });
    const lines = allRecords();
    expect(lines).not.toContain('grace.hopper');
    expect(lines).not.toContain('ada@example.com');
  });
});

function allRecords(): string {
  return readdirSync(records)
    .map((f) => readFileSync(join(records, f), 'utf8'))
    .join('');
}
