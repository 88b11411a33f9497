/** Every failure is OpenAI-shaped JSON with OpenAI's status, raised as the SDK's own error classes. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI, { APIError, BadRequestError, NotFoundError } from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let fake: FakeOpenAI;
let gw: TestGateway;
const msg = [{ role: 'user' as const, content: 'hi' }];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({
    server: { body_limit_bytes: 10_000 },
    // One attempt per request here: these tests are about how each failure is reported (retries: test/resilience).
    resilience: { retries: 0 },
    upstreams: [
      { id: 'fakecloud', url: fake.url, models: ['gpt-test'], timeouts: { first_byte_ms: 1500, idle_ms: 1500 } },
      // Nothing listens on port 9 (discard) on loopback here: connection refused.
      { id: 'deadcloud', url: 'http://127.0.0.1:9/v1', models: ['gpt-dead'], timeouts: { connect_ms: 2000 } },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});
beforeEach(() => fake.reset());

async function raw(
  path: string,
  init: RequestInit,
): Promise<{ status: number; body: { error: { message: string; type: string; param: string | null; code: string | null } } }> {
  const res = await fetch(`${gw.url}${path}`, init);
  expect(res.headers.get('content-type')).toContain('application/json');
  return { status: res.status, body: (await res.json()) as never };
}

function expectShape(body: { error: Record<string, unknown> }) {
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error['message']).toBe('string');
}

describe('client errors', () => {
  it('malformed JSON is 400 invalid_json', async () => {
    const r = await raw('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "gpt-test",' });
    expect(r.status).toBe(400);
    expectShape(r.body);
    expect(r.body.error.code).toBe('invalid_json');
  });

  it('a schema violation is 400 with param naming the field (SDK BadRequestError)', async () => {
    const err = await gw.client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'wizard' as 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as BadRequestError).param).toBe('messages[0].role');
    const err2 = await gw.client.chat.completions.create({ model: 'gpt-test', messages: msg, temperature: 7 }).catch((e: unknown) => e);
    expect((err2 as BadRequestError).param).toBe('temperature');
    const r = await raw('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-test"}' });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('messages');
    expect(r.body.error.code).toBe('missing_required_parameter');
    expect(fake.requests).toHaveLength(0);
  });

  it('an unknown model is 404 model_not_found (SDK NotFoundError)', async () => {
    const err = await gw.client.chat.completions.create({ model: 'nope', messages: msg }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
  });

  it('a body over the limit is 413', async () => {
    const big = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'x'.repeat(20_000) }] });
    const r = await raw('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(r.status).toBe(413);
    expectShape(r.body);
    const err = await gw.client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'y'.repeat(20_000) }] })
      .catch((e: unknown) => e);
    expect((err as APIError).status).toBe(413);
  });

  it('a wrong method is 405 with Allow, an unknown path 404', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expectShape((await res.json()) as never);
    const r = await raw('/v1/nothing-here', { method: 'GET' });
    expect(r.status).toBe(404);
    expectShape(r.body);
  });
});

describe('upstream failures', () => {
  it('an upstream 500 becomes 502 naming the upstream', async () => {
    fake.setFault({ status: 500 });
    const err = await gw.client.chat.completions.create({ model: 'gpt-test', messages: msg }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as APIError).status).toBe(502);
    expect((err as APIError).message).toContain("'fakecloud'");
    expect((err as APIError).message).not.toMatch(/at .*\.ts:\d+/);
  });

  it('an upstream 429 passes through with Retry-After', async () => {
    fake.setFault({ status: 429, retryAfter: 3 });
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: msg }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expectShape((await res.json()) as never);
  });

  it('an unreachable upstream is 503, a hanging one 504', async () => {
    const err = await gw.client.chat.completions.create({ model: 'gpt-dead', messages: msg }).catch((e: unknown) => e);
    expect((err as APIError).status).toBe(503);
    expect((err as APIError).message).toContain("'deadcloud'");
    fake.setFault({ hang: true });
    const err2 = await gw.client.chat.completions.create({ model: 'gpt-test', messages: msg }).catch((e: unknown) => e);
    expect((err2 as APIError).status).toBe(504);
    expect((err2 as APIError).message).toContain('first-byte');
  });

  it('a stream cut mid-way ends with an error event the SDK raises, not a silent end', async () => {
    fake.setFault({ cutAfterChunks: 2 });
    const stream = await gw.client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'a b c d e f g h' }],
      stream: true,
    });
    let received = 0;
    const err = await (async () => {
      for await (const _ of stream) received++;
    })().catch((e: unknown) => e);
    expect(received).toBeGreaterThanOrEqual(1);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as APIError).message).toContain('fakecloud');
  });
});
