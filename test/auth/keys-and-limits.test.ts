/** Virtual keys, tenants and rate limits through the openai SDK; provider keys never leave the gateway. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI, { AuthenticationError, PermissionDeniedError, RateLimitError } from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { configSchema } from '../../gateway/config/schema.js';
import { startGateway } from '../../gateway/node.js';
import { silentLogger } from '../../gateway/core/logger.js';

let fake: FakeOpenAI;
let gw: TestGateway;
const KEYS = { alice: 'sk-sy-alice-0123456789abcdef', bob: 'sk-sy-bob-0123456789abcdef', carol: 'sk-sy-carol-0123456789abcdef' };
const msg = [{ role: 'user' as const, content: 'hello' }];
const client = (key: string) => new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({
    upstreams: [{ id: 'fakecloud', url: fake.url, api_key: 'sk-provider-secret', models: ['gpt-a', 'gpt-b'] }],
    keys: [
      { id: 'alice', sha256: await sha256Hex(KEYS.alice), tenant: 'acme', rpm: 3 },
      { id: 'bob', sha256: await sha256Hex(KEYS.bob), tenant: 'acme', models: ['gpt-a'] },
      { id: 'carol', sha256: await sha256Hex(KEYS.carol), tenant: 'solo', tpm: 60 },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});
beforeEach(() => fake.reset());

describe('virtual keys', () => {
  it('rejects missing and unknown keys with the same 401 invalid_api_key', async () => {
    const e1 = await client('sk-sy-nobody')
      .chat.completions.create({ model: 'gpt-a', messages: msg })
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(AuthenticationError);
    expect((e1 as AuthenticationError).code).toBe('invalid_api_key');
    const r = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-a', messages: msg }),
    });
    expect(r.status).toBe(401);
    const body = (await r.json()) as { error: { message: string } };
    expect(body.error.message).toBe((e1 as AuthenticationError).error && ((e1 as AuthenticationError).error as { message: string }).message);
    expect(fake.requests).toHaveLength(0);
  });

  it('forbids a model the key may not use with 403', async () => {
    const e = await client(KEYS.bob)
      .chat.completions.create({ model: 'gpt-b', messages: msg })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PermissionDeniedError);
    expect((e as PermissionDeniedError).code).toBe('model_not_allowed');
    const ok = await client(KEYS.bob).chat.completions.create({ model: 'gpt-a', messages: msg });
    expect(ok.choices[0]!.message.content).toContain('hello');
  });

  it('never forwards the client key; the provider key comes from config', async () => {
    await client(KEYS.bob).chat.completions.create({ model: 'gpt-a', messages: msg });
    const sent = fake.requests[0]!.headers['authorization'];
    expect(sent).toBe('Bearer sk-provider-secret');
    expect(JSON.stringify(fake.requests[0])).not.toContain(KEYS.bob);
  });

  it('refuses oversized request headers before they reach the app', async () => {
    const r = await fetch(`${gw.baseURL}/models`, { headers: { 'x-big': 'a'.repeat(32 * 1024) } });
    expect(r.status).toBe(431);
  });

  it('health probes stay open without a key', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('enforces requests per minute with 429, Retry-After and OpenAI rate-limit headers', async () => {
    const res = await client(KEYS.alice).chat.completions.create({ model: 'gpt-a', messages: msg }).withResponse();
    expect(res.response.headers.get('x-ratelimit-limit-requests')).toBe('3');
    const remaining = Number(res.response.headers.get('x-ratelimit-remaining-requests'));
    expect(remaining).toBeLessThanOrEqual(2);
    expect(res.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () =>
        client(KEYS.alice)
          .chat.completions.create({ model: 'gpt-a', messages: msg })
          .then(
            () => 'ok',
            (e: unknown) => e,
          ),
      ),
    );
    const limited = outcomes.filter((o) => o instanceof RateLimitError) as RateLimitError[];
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(remaining);
    expect(limited.length).toBe(4 - remaining);
    expect(limited[0]!.code).toBe('rate_limit_exceeded');
    expect(Number(limited[0]!.headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('enforces tokens per minute from an estimate reconciled with usage', async () => {
    // 60 tokens per minute: a request asking for 200 completion tokens cannot fit.
    const e = await client(KEYS.carol)
      .chat.completions.create({ model: 'gpt-a', messages: msg, max_tokens: 200 })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).message).toMatch(/tokens per minute/);
    const ok = await client(KEYS.carol).chat.completions.create({ model: 'gpt-a', messages: msg, max_tokens: 5 }).withResponse();
    expect(Number(ok.response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(60);
  });
});

describe('binding', () => {
  it('refuses to listen beyond loopback without keys', async () => {
    const cfg = configSchema.parse({ server: { host: '0.0.0.0', port: 0 }, edge: { enabled: false } });
    await expect(startGateway(cfg, { logger: silentLogger })).rejects.toThrow(/Refusing to listen on 0\.0\.0\.0 without authentication/);
  });
});
