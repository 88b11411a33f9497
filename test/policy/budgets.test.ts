/** Cost caps and spend budgets: per-request caps, downgrades, and no overspend under 200 concurrent requests on real Redis. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { RedisCounterStore } from '../../gateway/counters/redis-counter-store.js';

let edge: FakeOpenAI;
let cloud: FakeOpenAI;
let redis: TestRedis;
let gw: TestGateway;
const KEY = 'sk-sy-budget-key-0123456789abcdef';
const PREFIX = 'bt:';

beforeAll(async () => {
  edge = await startFakeOpenAI({ reply: 'edge answer' });
  cloud = await startFakeOpenAI({ reply: 'cloud answer' });
  redis = await startRedis();
  const file = join(mkdtempSync(join(tmpdir(), 'sy-budget-')), 'policy.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'budgets:',
      '  - { id: team, scope: tenant, match: "acme", day_usd: 0.05 }',
      'on_budget_exceeded: { action: reject }',
      'rules:',
      '  - id: capped',
      '    match: { headers: { x-capped: "1" } }',
      '    route: [cloud]',
      '    cost: { max_request_usd: 0.02, on_exceed: downgrade, downgrade_to: [edge] }',
      '  - id: all',
      '    route: [cloud, edge]',
      '',
    ].join('\n'),
  );
  gw = await startTestGateway({
    policies: { file },
    redis: { url: redis.url, key_prefix: PREFIX, command_timeout_ms: 2000 },
    prices: { models: { m: { input_per_m: 100, output_per_m: 100 } } },
    keys: [{ id: 'buyer', sha256: await sha256Hex(KEY), tenant: 'acme' }],
    upstreams: [
      { id: 'edge', url: edge.url, zone: 'edge', models: ['m'] },
      { id: 'cloud', url: cloud.url, models: ['m'], max_connections: 256 },
    ],
  });
}, 60_000);
afterAll(async () => {
  await gw?.shutdown();
  await edge?.close();
  await cloud?.close();
  await redis?.stop();
});

const client = () => new OpenAI({ baseURL: gw.baseURL, apiKey: KEY, maxRetries: 0 });

describe('cost caps and budgets', () => {
  it('downgrades a request over the per-request cap to the edge', async () => {
    // ~200 completion tokens at $100/M = $0.02+: over the cap.
    const r = await client().chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'big' }], max_tokens: 400 },
      { headers: { 'x-capped': '1' } },
    );
    expect(r.choices[0]!.message.content).toBe('edge answer');
    const small = await client().chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'small' }], max_tokens: 5 },
      { headers: { 'x-capped': '1' } },
    );
    expect(small.choices[0]!.message.content).toBe('cloud answer');
  });

  it('200 concurrent requests against a nearly spent budget overspend it by at most one estimate', async () => {
    // Each request: ~40 prompt tokens (body bytes / 4) + 60 max_tokens at $100/M -> ~$0.01 estimated.
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client()
          .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `spend ${i}` }], max_tokens: 60 })
          .then(
            () => 'ok',
            (e: unknown) => e,
          ),
      ),
    );
    const ok = outcomes.filter((o) => o === 'ok').length;
    const refused = outcomes.filter((o) => o instanceof RateLimitError);
    expect(ok).toBeGreaterThan(0);
    expect(ok + refused.length).toBe(200);
    expect((refused[0] as RateLimitError).code).toBe('budget_exceeded');
    expect((refused[0] as RateLimitError).message).toMatch(/Budget 'team \(day\)' is exhausted/);
    // Reserved (then reconciled) spend in Redis never exceeds the budget by more than one request's estimate.
    const store = new RedisCounterStore({ url: redis.url, keyPrefix: PREFIX });
    const day = new Date().toISOString().slice(0, 10);
    // Reservations never pass the limit; reconciliation only lowers them here (actual output < max_tokens), so the
    // bound holds at any moment.
    const [spent] = await store.get([`budget:team:acme:day:${day}`]);
    await store.close();
    expect(spent!).toBeLessThanOrEqual(0.05 * 1e6 + 0.011 * 1e6);
    expect(cloud.requests.length + edge.requests.length).toBeGreaterThanOrEqual(ok);
  }, 120_000);
});
