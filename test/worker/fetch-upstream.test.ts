/**
 * FetchUpstream (the Worker's OpenAI-compatible upstream) against the fake over real HTTP, on Node's own fetch: the
 * same error mapping and timeouts as the undici upstream. The workerd run (worker.test.ts) covers it inside the Worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamSchema } from '../../gateway/config/schema.js';
import { GatewayError } from '../../gateway/core/errors.js';
import type { UpstreamCall } from '../../gateway/core/upstream.js';
import { FetchUpstream } from '../../gateway/upstreams/openai/fetch-upstream.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { freePort } from '../helpers/free-port.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ reply: 'one two three four', chunks: 4 });
});
afterAll(async () => fake?.close());

const upstream = (over: Record<string, unknown> = {}) =>
  new FetchUpstream(upstreamSchema.parse({ id: 'up', url: fake.url, api_key: 'k', models: ['m'], ...over }));

const call = (over: Partial<UpstreamCall> = {}): UpstreamCall => ({
  endpoint: 'chat.completions',
  body: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  stream: false,
  signal: new AbortController().signal,
  requestId: 'r1',
  ...over,
});

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

async function drain(events: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of events) out.push(e);
  return out;
}

describe('FetchUpstream', () => {
  it('answers JSON with usage, and streams with usage asked for', async () => {
    fake.clearFault();
    const u = upstream();
    const json = await u.call(call());
    expect(json.kind).toBe('json');
    if (json.kind === 'json') expect(json.usage?.completion_tokens).toBe(4);
    const stream = await u.call(call({ stream: true, body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] } }));
    expect(stream.kind).toBe('stream');
    if (stream.kind !== 'stream') return;
    const events = await drain(stream.events);
    expect(events.at(-1)).toContain('"usage"');
    expect(fake.requests.at(-1)?.body).toMatchObject({ stream_options: { include_usage: true } });
    expect(fake.requests.at(-1)?.headers['authorization']).toBe('Bearer k');
    expect(u.load().inFlight).toBe(0);
  });

  it('maps upstream statuses: 429 keeps Retry-After, 401 is the gateway credentials, 500 is retryable', async () => {
    const u = upstream();
    fake.setFault({ status: 429, retryAfter: 7, times: 1 });
    const limited = await failure(u.call(call()));
    expect([limited.status, limited.code, limited.retryAfterMs]).toEqual([429, 'upstream_rate_limited', 7000]);
    fake.setFault({ status: 401, times: 1 });
    const auth = await failure(u.call(call()));
    expect([auth.status, auth.code]).toEqual([502, 'upstream_auth_failed']);
    fake.setFault({ status: 500, times: 1 });
    const broken = await failure(u.call(call()));
    expect([broken.status, broken.code, broken.retryable]).toEqual([502, 'upstream_error', true]);
  });

  it('a refused connection is upstream_unavailable and retryable', async () => {
    const u = new FetchUpstream(upstreamSchema.parse({ id: 'gone', url: `http://127.0.0.1:${await freePort()}/v1`, models: ['m'] }));
    const err = await failure(u.call(call()));
    expect([err.status, err.code, err.retryable]).toEqual([503, 'upstream_unavailable', true]);
    expect(err.message).toContain('connection refused');
  });

  it('times out waiting for headers, and going idle mid-stream', async () => {
    fake.setFault({ firstByteDelayMs: 1_500, times: 1 });
    const slow = await failure(upstream({ timeouts: { connect_ms: 100, first_byte_ms: 200 } }).call(call()));
    expect([slow.status, slow.code]).toEqual([504, 'upstream_first_byte_timeout']);
    fake.setFault({ chunkDelayMs: 1_500, times: 1 });
    const u = upstream({ timeouts: { idle_ms: 300 } });
    const res = await u.call(call({ stream: true, body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] } }));
    if (res.kind !== 'stream') throw new Error('expected a stream');
    const idle = await failure(drain(res.events));
    expect([idle.status, idle.code]).toEqual([504, 'upstream_idle_timeout']);
    expect(u.load().inFlight).toBe(0);
  });

  it('a stream cut before [DONE] fails loudly, and a client abort stops the upstream call', async () => {
    fake.setFault({ cutAfterChunks: 2, times: 1 });
    const u = upstream();
    const res = await u.call(call({ stream: true, body: { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] } }));
    if (res.kind !== 'stream') throw new Error('expected a stream');
    const cut = await failure(drain(res.events));
    expect([cut.status, cut.code]).toEqual([502, 'upstream_unavailable']);

    fake.setFault({ hang: true, times: 1 });
    const client = new AbortController();
    const pending = u.call(call({ signal: client.signal }));
    client.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
    expect(u.load().inFlight).toBe(0);
  });
});
