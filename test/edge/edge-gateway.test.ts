/** The edge runtime as the gateway's destination, driven with the official openai SDK (real worker, real onnxruntime). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { BadRequestError } from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { testModel } from '../../edge-runtime/testing/test-models.js';
import type { EdgeUpstream } from '../../gateway/upstreams/edge/edge-upstream.js';

let gw: TestGateway;
let edge: EdgeUpstream;
const user = (content: string) => [{ role: 'user' as const, content }];

beforeAll(async () => {
  const dir = await testModel('tiny-llama', 1);
  // Cache off: these tests exercise the engine itself, including identical greedy requests.
  gw = await startTestGateway({
    cache: { backend: 'off' },
    edge: { enabled: true, models: [{ id: 'tiny-edge', path: dir, variant: 'fp32' }], kv_budget_mb: 16 },
  });
  edge = gw.upstreams.find((u) => u.id === 'edge') as EdgeUpstream;
  await waitUntil(() => edge.ready(), { timeoutMs: 60_000 });
});
afterAll(async () => {
  await gw?.shutdown();
});

describe('edge through the gateway', () => {
  it('answers non-streaming and streaming chat with the same greedy text and exact usage', async () => {
    const r = await gw.client.chat.completions.create({ model: 'tiny-edge', messages: user('hello edge'), max_tokens: 12, temperature: 0 });
    expect(r.choices[0]!.finish_reason).toBe('length');
    expect(r.usage!.completion_tokens).toBe(12);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 12);
    const stream = await gw.client.chat.completions.create({
      model: 'tiny-edge',
      messages: user('hello edge'),
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(r.choices[0]!.message.content);
    expect(finish).toBe('length');
    // Same counts; only the cached-token detail differs (the second request hits the first one's prefix blocks).
    const counts = (u: typeof r.usage | null) => ({ p: u?.prompt_tokens, c: u?.completion_tokens, t: u?.total_tokens });
    expect(counts(usage)).toEqual(counts(r.usage));
  });

  it('serves /v1/completions and lists the edge model', async () => {
    const c = await gw.client.completions.create({ model: 'tiny-edge', prompt: 'Once upon', max_tokens: 5, temperature: 0 });
    expect(c.usage!.completion_tokens).toBe(5);
    const models = await gw.client.models.list();
    expect(models.data.map((m) => m.id)).toContain('tiny-edge');
  });

  it('stops at a stop string without emitting it', async () => {
    const base = await gw.client.chat.completions.create({ model: 'tiny-edge', messages: user('stop test'), max_tokens: 40, temperature: 0 });
    const text = base.choices[0]!.message.content!;
    const at = [...text].findIndex((ch, i) => i >= 2 && /[A-Za-z0-9]/.test(ch));
    expect(at).toBeGreaterThan(0);
    const stop = [...text][at]!;
    const r = await gw.client.chat.completions.create({
      model: 'tiny-edge',
      messages: user('stop test'),
      max_tokens: 40,
      temperature: 0,
      stop: [stop],
    });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.message.content).toBe(text.slice(0, text.indexOf(stop)));
  });

  it('reproduces seeded sampling and returns n choices', async () => {
    const ask = (seed: number) =>
      gw.client.chat.completions.create({ model: 'tiny-edge', messages: user('sample me'), max_tokens: 16, temperature: 1, seed });
    const a = await ask(5);
    const b = await ask(5);
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    const n = await gw.client.chat.completions.create({
      model: 'tiny-edge',
      messages: user('sample me'),
      max_tokens: 16,
      temperature: 1,
      seed: 9,
      n: 3,
    });
    expect(n.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(n.usage!.completion_tokens).toBe(48);
    expect(new Set(n.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
  });

  it('returns logprobs when asked', async () => {
    const r = await gw.client.chat.completions.create({
      model: 'tiny-edge',
      messages: user('logprobs'),
      max_tokens: 4,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    });
    const lp = r.choices[0]!.logprobs!.content!;
    expect(lp.length).toBeGreaterThan(0);
    expect(lp[0]!.top_logprobs).toHaveLength(3);
    expect(lp[0]!.logprob).toBeLessThanOrEqual(0);
  });

  it('rejects a prompt longer than the context with 400 context_length_exceeded and the numbers', async () => {
    const err = await gw.client.chat.completions
      .create({ model: 'tiny-edge', messages: user('x'.repeat(3000)), max_tokens: 10 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('context_length_exceeded');
    expect((err as BadRequestError).message).toMatch(/maximum context length is 1024 tokens/);
  });

  it('a client that disconnects frees its sequence and KV blocks', async () => {
    const controller = new AbortController();
    const stream = await gw.client.chat.completions.create(
      { model: 'tiny-edge', messages: user('long one'), max_tokens: 900, temperature: 0, stream: true },
      { signal: controller.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    controller.abort();
    await waitUntil(
      () => {
        const s = edge.engineStats();
        return edge.load().inFlight === 0 && s !== undefined && s.running === 0 && s.blocksUsed === 0;
      },
      { timeoutMs: 20_000 },
    );
  });

  it('vLLM benchmark extras: ignore_eos runs to max_tokens, min_tokens holds EOS back, cached prompt tokens are reported', async () => {
    const eos = '258'; // the tiny model's EOS id; a +100 bias makes it the next token whenever it is allowed
    const body = (extra: Record<string, unknown>) => ({
      model: 'tiny-edge',
      messages: user('count to ten'),
      max_tokens: 24,
      logit_bias: { [eos]: 100 },
      ...extra,
    });
    const plain = await gw.client.chat.completions.create(body({}));
    expect(plain.usage!.completion_tokens).toBeLessThanOrEqual(1); // EOS at once
    const ignoring = await gw.client.chat.completions.create(body({ ignore_eos: true }) as never);
    expect(ignoring.usage!.completion_tokens).toBe(24);
    expect(ignoring.choices[0]!.finish_reason).toBe('length');
    const atLeast = await gw.client.chat.completions.create(body({ min_tokens: 7 }) as never);
    expect(atLeast.usage!.completion_tokens).toBe(8); // 7 held back, then EOS (counted as the 8th token)
    expect(atLeast.choices[0]!.finish_reason).toBe('stop');
    // The same 60-token prompt twice: the second is served from the prefix cache (whole 16-token blocks).
    const long = 'the quick brown fox jumps over the lazy dog again and again ';
    const first = await gw.client.chat.completions.create({ model: 'tiny-edge', messages: user(long), max_tokens: 2, temperature: 0 });
    const again = await gw.client.chat.completions.create({ model: 'tiny-edge', messages: user(long), max_tokens: 2, temperature: 0 });
    const cached = (u: unknown) => (u as { prompt_tokens_details?: { cached_tokens: number } }).prompt_tokens_details?.cached_tokens ?? -1;
    expect(cached(first.usage)).toBe(0);
    expect(cached(again.usage)).toBeGreaterThanOrEqual(16);
  });
});
