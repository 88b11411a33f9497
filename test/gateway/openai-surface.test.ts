/** The gateway as a drop-in baseURL for the official openai SDK, against a real fake upstream on loopback. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { RequestContext } from '../../gateway/core/request-context.js';

let fake: FakeOpenAI;
let gw: TestGateway;
const done: RequestContext[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway(
    {
      upstreams: [
        {
          id: 'fakecloud',
          url: fake.url,
          api_key: 'sk-upstream-secret',
          models: ['gpt-test', { id: 'alias', upstream_model: 'gpt-real' }, 'embed-test'],
        },
      ],
    },
    { onComplete: (ctx) => done.push({ ...ctx }) },
  );
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  done.length = 0;
});

describe('OpenAI-compatible surface', () => {
  it('answers a non-streaming chat completion and captures usage', async () => {
    const r = await gw.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hello there' }] });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]!.message.content).toContain('hello there');
    expect(r.usage?.total_tokens).toBeGreaterThan(0);
    expect(done).toHaveLength(1);
    expect(done[0]!.usage).toEqual(r.usage);
    expect(done[0]!.upstream).toBe('fakecloud');
    // The gateway's own credential goes upstream; the client's never does.
    expect(fake.requests[0]!.headers['authorization']).toBe('Bearer sk-upstream-secret');
  });

  it('renames models on the way out and keeps unknown fields untouched', async () => {
    const body = { model: 'alias', messages: [{ role: 'user' as const, content: 'x' }], top_k: 7, min_p: 0.1, guided_json: { type: 'object' } };
    await gw.client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const sent = fake.requests[0]!.body as Record<string, unknown>;
    expect(sent['model']).toBe('gpt-real');
    expect(sent['top_k']).toBe(7);
    expect(sent['min_p']).toBe(0.1);
    expect(sent['guided_json']).toEqual({ type: 'object' });
  });

  it('streams chat chunks and honours stream_options.include_usage', async () => {
    const stream = await gw.client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toContain('stream me please');
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(done[0]!.usage).toEqual(usage);
  });

  it('captures usage of a stream whose client did not ask for it, without showing the extra chunk', async () => {
    const stream = await gw.client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'quiet usage' }], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.usage == null)).toBe(true);
    expect(done[0]!.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('serves completions (stream and not), embeddings and models', async () => {
    const c = await gw.client.completions.create({ model: 'gpt-test', prompt: 'complete this' });
    expect(c.object).toBe('text_completion');
    expect(c.choices[0]!.text.length).toBeGreaterThan(0);
    const s = await gw.client.completions.create({ model: 'gpt-test', prompt: 'complete this', stream: true });
    let t = '';
    for await (const chunk of s) t += chunk.choices[0]?.text ?? '';
    expect(t.length).toBeGreaterThan(0);
    const e = await gw.client.embeddings.create({ model: 'embed-test', input: ['a', 'bb'] });
    expect(e.data).toHaveLength(2);
    expect(e.data[0]!.embedding.length).toBeGreaterThan(0);
    const models = await gw.client.models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(['alias', 'embed-test', 'gpt-test']);
  });

  it('returns x-request-id, echoing a well-formed one', async () => {
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc.123' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-abc.123');
    const res2 = await fetch(`${gw.url}/healthz`);
    expect(res2.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
