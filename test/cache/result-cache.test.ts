/** The result cache in front of the upstreams: hits, misses, TTL, Cache-Control, stream replay, single-flight, Redis trouble. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { MemoryCache } from '../../gateway/cache/memory-cache.js';

let fake: FakeOpenAI;
let redis: TestRedis;
let mem: TestGateway;
let shared: TestGateway;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  redis = await startRedis();
  mem = await startTestGateway({ upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }] });
  shared = await startTestGateway({
    redis: { url: redis.url, command_timeout_ms: 200 },
    cache: { backend: 'redis', command_timeout_ms: 200 },
    upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }],
  });
});
afterAll(async () => {
  await mem?.shutdown();
  await shared?.shutdown();
  await fake?.close();
  await redis?.stop();
});
beforeEach(() => fake.reset());

const q = (content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) => ({
  model: 'gpt-a',
  messages: [{ role: 'user' as const, content }],
  temperature: 0,
  ...extra,
});

describe.each([
  ['memory', () => mem],
  ['redis', () => shared],
] as const)('%s cache', (_n, gw) => {
  it('misses, then hits without calling the upstream; non-deterministic requests bypass', async () => {
    const id = `${_n}-${Date.now()}`;
    const first = await gw()
      .client.chat.completions.create(q(`cache me ${id}`))
      .withResponse();
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    const second = await gw()
      .client.chat.completions.create(q(`cache me ${id}`))
      .withResponse();
    expect(second.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(second.data).toEqual(first.data);
    expect(fake.requests).toHaveLength(1);
    const hot = await gw()
      .client.chat.completions.create(q(`cache me ${id}`, { temperature: 0.8 }))
      .withResponse();
    expect(hot.response.headers.get('x-switchyard-cache')).toBe('bypass');
    // `user` does not change the answer, so it does not change the key.
    const other = await gw()
      .client.chat.completions.create(q(`cache me ${id}`, { user: 'someone' }))
      .withResponse();
    expect(other.response.headers.get('x-switchyard-cache')).toBe('hit');
  });

  it('honours Cache-Control no-cache and no-store', async () => {
    const id = `cc-${_n}-${Date.now()}`;
    await gw().client.chat.completions.create(q(id));
    const nc = await gw()
      .client.chat.completions.create(q(id), { headers: { 'cache-control': 'no-cache' } })
      .withResponse();
    expect(nc.response.headers.get('x-switchyard-cache')).toBe('miss');
    const ns = await gw()
      .client.chat.completions.create(q(id), { headers: { 'cache-control': 'no-store' } })
      .withResponse();
    expect(ns.response.headers.get('x-switchyard-cache')).toBe('bypass');
    expect(fake.requests).toHaveLength(3);
  });

  it('replays a cached answer to a streaming client with the same content and usage, and caches a finished stream', async () => {
    const id = `stream-${_n}-${Date.now()}`;
    const collect = async () => {
      const s = await gw().client.chat.completions.create({ ...q(id), stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      let finish: string | null | undefined;
      for await (const c of s) {
        text += c.choices[0]?.delta?.content ?? '';
        finish = c.choices[0]?.finish_reason ?? finish;
        if (c.usage) usage = c.usage;
      }
      return { text, usage, finish };
    };
    const original = await collect();
    await waitUntil(
      async () => (await gw().client.chat.completions.create(q(id)).withResponse()).response.headers.get('x-switchyard-cache') === 'hit',
      { timeoutMs: 10_000 },
    );
    const replay = await collect();
    expect(replay).toEqual(original);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('single-flight and trouble', () => {
  it('50 concurrent identical requests make one upstream call', async () => {
    fake.setFault({ firstByteDelayMs: 300 });
    const id = `flight-${Date.now()}`;
    const all = await Promise.all(Array.from({ length: 50 }, () => mem.client.chat.completions.create(q(id))));
    expect(new Set(all.map((r) => r.choices[0]!.message.content)).size).toBe(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('expires entries after their TTL', async () => {
    let now = 0;
    const c = new MemoryCache(10, 1_000_000, () => now);
    await c.set('k', { a: 1 }, 5);
    expect(await c.get('k')).toEqual({ a: 1 });
    now = 5_001;
    expect(await c.get('k')).toBeUndefined();
  });

  it('keeps serving when Redis dies, and caches again once it is back', async () => {
    await redis.kill();
    for (let i = 0; i < 5; i++) {
      const r = await shared.client.chat.completions.create(q(`redis down ${i}`)).withResponse();
      expect(r.data.choices[0]!.message.content).toContain(`redis down ${i}`);
    }
    await redis.restart();
    const id = `redis back ${Date.now()}`;
    await waitUntil(
      async () => {
        await shared.client.chat.completions.create(q(id));
        return (await shared.client.chat.completions.create(q(id)).withResponse()).response.headers.get('x-switchyard-cache') === 'hit';
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
});

describe('encryption at rest', () => {
  it('stores only ciphertext in Redis and still answers hits', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const gw = await startTestGateway({
      redis: { url: redis.url, key_prefix: 'enc:', command_timeout_ms: 500 },
      cache: { backend: 'redis', command_timeout_ms: 500, encryption_key: key },
      upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }],
    });
    try {
      const secret = `very secret prompt ${Date.now()}`;
      await gw.client.chat.completions.create(q(secret));
      const hit = await gw.client.chat.completions.create(q(secret)).withResponse();
      expect(hit.response.headers.get('x-switchyard-cache')).toBe('hit');
      expect(hit.data.choices[0]!.message.content).toContain(secret);
      const { Redis } = await import('ioredis');
      const r = new Redis(redis.url);
      const keys = await r.keys('enc:cache:*');
      const values = await Promise.all(keys.map((k) => r.get(k)));
      r.disconnect();
      expect(keys.length).toBeGreaterThan(0);
      for (const v of values) expect(v).not.toContain('very secret');
    } finally {
      await gw.shutdown();
    }
  });
});

describe('shared streams', () => {
  it('identical concurrent streams share one upstream stream, and one leaving does not cancel it for the others', async () => {
    fake.reset();
    fake.setFault({ chunkDelayMs: 30 });
    const id = `shared-stream-${Date.now()}`;
    const leaver = new AbortController();
    const open = (signal?: AbortSignal) => mem.client.chat.completions.create({ ...q(id), stream: true }, signal ? { signal } : {});
    const streams = await Promise.all([open(leaver.signal), open(), open(), open()]);
    // The first client leaves after one chunk; the rest read to the end.
    const it0 = streams[0]![Symbol.asyncIterator]();
    await it0.next();
    leaver.abort();
    const texts = await Promise.all(
      streams.slice(1).map(async (s) => {
        let t = '';
        for await (const c of s) t += c.choices[0]?.delta?.content ?? '';
        return t;
      }),
    );
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toContain(id);
    expect(fake.requests).toHaveLength(1);
    expect(fake.aborted).toBe(0);
  });
});
