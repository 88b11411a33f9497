/**
 * Stored responses live in the shared cache store: on Redis, encrypted at rest when the cache is, with a TTL, so a
 * conversation started on one gateway replica continues on another through previous_response_id.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { STORED_RESPONSE_TTL_SECONDS } from '../../gateway/fronts/response-store.js';

let redis: TestRedis;
let cloud: FakeOpenAI;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cloud = await startFakeOpenAI();
  const key = Buffer.alloc(32, 9).toString('base64');
  for (let i = 0; i < 2; i++) {
    gateways.push(
      await startTestGateway({
        redis: { url: redis.url, key_prefix: 'fronts:', command_timeout_ms: 500 },
        cache: { backend: 'redis', command_timeout_ms: 500, encryption_key: key },
        upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }],
      }),
    );
  }
});
afterAll(async () => {
  for (const gw of gateways) await gw.shutdown();
  await cloud?.close();
  await redis?.stop();
});

describe('stored responses on Redis', () => {
  it('continue on another replica, are ciphertext at rest, and expire', async () => {
    const [a, b] = gateways.map((gw) => new OpenAI({ baseURL: gw.baseURL, apiKey: 'x', maxRetries: 0 }));
    const secret = `my secret plan ${Date.now()}`;
    const first = await a!.responses.create({ model: 'm', input: secret });
    const second = await b!.responses.create({ model: 'm', previous_response_id: first.id, input: 'and then?' });
    expect(second.output_text).toBe('echo: and then?');
    const sent = cloud.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }> };
    expect(sent.messages.map((m) => m.content)).toEqual([secret, `echo: ${secret}`, 'and then?']);

    const { Redis } = await import('ioredis');
    const r = new Redis(redis.url);
    try {
      const keys = await r.keys('fronts:*response*');
      expect(keys.length).toBeGreaterThanOrEqual(2);
      for (const k of keys) {
        expect(await r.get(k)).not.toContain('secret plan');
        const ttl = await r.ttl(k);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(STORED_RESPONSE_TTL_SECONDS);
      }
    } finally {
      r.disconnect();
    }
  });
});
