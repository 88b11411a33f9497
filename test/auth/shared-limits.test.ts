/** Two gateway processes share one real redis-server: a key's limit holds across both; secrets never reach logs or errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { RateLimitError } from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startGatewayProcess, type Proc } from '../helpers/gateway-process.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { waitUntil } from '../helpers/wait.js';

let fake: FakeOpenAI;
let redis: TestRedis;
const gws: Array<Proc & { url: string; output: string[] }> = [];
const KEY = 'sk-sy-shared-limit-key-0123456789';
const PROVIDER_SECRET = 'sk-provider-very-secret-value';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  redis = await startRedis();
  const hash = await sha256Hex(KEY);
  process.env['SY_TEST_PROVIDER_KEY'] = PROVIDER_SECRET;
  const yaml = (port: number) =>
    [
      `server: { port: ${port} }`,
      'edge: { enabled: false }',
      `redis: { url: "${redis.url}", command_timeout_ms: 2000 }`,
      'upstreams:',
      `  - { id: fakecloud, url: "${fake.url}", api_key: "\${SY_TEST_PROVIDER_KEY}", models: [gpt-a] }`,
      'keys:',
      `  - { id: shared, tenant: acme, sha256: ${hash}, rpm: 5 }`,
      '',
    ].join('\n');
  gws.push(await startGatewayProcess(yaml, 60_000), await startGatewayProcess(yaml, 60_000));
}, 120_000);

afterAll(async () => {
  await Promise.all(gws.map((g) => g.stop()));
  await redis?.stop();
  await fake?.close();
});

describe('shared state across replicas', () => {
  it('a 5 rpm key gets exactly 5 requests through two processes together', async () => {
    // Start well inside a minute window so all 12 requests count against the same one.
    await waitUntil(() => Date.now() % 60_000 < 50_000, { timeoutMs: 15_000, intervalMs: 200 });
    const clients = gws.map((g) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey: KEY, maxRetries: 0 }));
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        clients[i % 2]!.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content: `n${i}` }] }).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      ),
    );
    // Separate per-process counters would let 10 through.
    const ok = outcomes.filter((o) => o === 'ok').length;
    expect(ok).toBe(5);
    expect(outcomes.filter((o) => o instanceof RateLimitError).length).toBe(12 - ok);
    expect(fake.requests.length).toBe(ok);
  });

  it('no secret from config appears in logs or error bodies', async () => {
    fake.setFault({ status: 500 });
    const r = await fetch(`${gws[0]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ model: 'gpt-a', messages: [{ role: 'user', content: 'x' }] }),
    });
    const bad = await fetch(`${gws[1]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-sy-wrong' },
      body: '{}',
    });
    const bodies = (await r.text()) + (await bad.text());
    fake.clearFault();
    const logs = gws.flatMap((g) => g.output).join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [PROVIDER_SECRET, KEY]) {
      expect(logs).not.toContain(secret);
      expect(bodies).not.toContain(secret);
    }
  });
});
