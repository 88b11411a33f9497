/**
 * Nothing a request sets up outlives it: after many JSON, streamed and abandoned calls, a signal shared by all of
 * them has no abort listener left, the edge engine holds no request, and the gateway has no more timers than after
 * the first few requests (a soak would otherwise grow by one closure per request).
 */
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeUpstream } from '../../gateway/upstreams/edge/edge-upstream.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { upstreamSchema } from '../../gateway/config/schema.js';
import type { Upstream, UpstreamCall } from '../../gateway/core/upstream.js';
import type { EngineHandle, EngineRequest, FromEngine } from '../../edge-runtime/index.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

/** An engine that answers at once but streams only its first token until cancelled: what an abandoned stream leaves. */
class HoldingEngine implements EngineHandle {
  readonly modelId = 'held-model';
  readonly loaded = Promise.resolve();
  readonly open = new Map<string, (m: FromEngine) => void>();
  /** Streams are held after their first token; JSON answers end at once. */
  holdNext = false;
  lastId = '';
  submit(request: EngineRequest, listener: (msg: FromEngine) => void): void {
    this.open.set(request.id, listener);
    this.lastId = request.id;
    const hold = this.holdNext;
    queueMicrotask(() => {
      listener({ type: 'accepted', id: request.id, promptTokens: 3 });
      listener({ type: 'delta', id: request.id, index: 0, text: 'hi', tokens: 1 });
      if (!hold) this.end(request.id);
    });
  }
  /** Finishes a request as the engine would at max_tokens. */
  end(id: string): void {
    const l = this.open.get(id);
    if (!l) return;
    this.open.delete(id);
    l({ type: 'finish', id, index: 0, reason: 'length', text: '' });
    l({ type: 'done', id, usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
  }
  cancel(id: string): void {
    this.open.delete(id);
  }
  loadReport() {
    return undefined;
  }
  lastStats() {
    return undefined;
  }
  isReady(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

/** JSON calls, streams read to the end, and streams left after their first event (as a client that goes away). */
async function mixedCalls(up: Upstream, model: string, signal: AbortSignal, n: number, engine?: HoldingEngine): Promise<void> {
  for (let i = 0; i < n; i++) {
    const stream = i % 3 !== 0;
    const abandon = i % 3 === 2;
    const call: UpstreamCall = {
      endpoint: 'chat.completions',
      body: { model, messages: [{ role: 'user', content: `call ${i}` }], max_tokens: 4, stream },
      stream,
      signal,
      requestId: `req-${i}`,
    };
    if (engine) engine.holdNext = stream;
    const r = await up.call(call);
    if (r.kind !== 'stream') continue;
    const it = r.events[Symbol.asyncIterator]();
    await it.next();
    if (abandon) {
      await it.return?.();
      continue;
    }
    // A stream read to the end is finished by the engine (at max_tokens); an abandoned one only a cancel ends.
    engine?.end(engine.lastId);
    while (!(await it.next()).done);
  }
}

describe('no per-request leftovers', () => {
  let fake: FakeOpenAI;
  let gw: TestGateway;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ record: false, chunks: 6 });
    gw = await startTestGateway({ upstreams: [{ id: 'cloud', url: fake.url, models: ['gpt-leak'] }] });
  });
  afterAll(async () => {
    await gw?.shutdown();
    await fake?.close();
  });

  it('a cloud upstream leaves no abort listener on a signal its calls shared, and no call in flight', async () => {
    const up = new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'cloud', url: fake.url, models: ['gpt-leak'] }));
    const shared = new AbortController();
    try {
      await mixedCalls(up, 'gpt-leak', shared.signal, 60);
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
      expect(up.load().inFlight).toBe(0);
    } finally {
      await up.close();
    }
  });

  it('the edge upstream leaves no abort listener, and a stream left early is cancelled in the engine', async () => {
    const engine = new HoldingEngine();
    const up = new EdgeUpstream('edge', engine);
    const shared = new AbortController();
    await mixedCalls(up, engine.modelId, shared.signal, 60, engine);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(up.load().inFlight).toBe(0);
    expect([...engine.open.keys()]).toEqual([]);
  });

  it('requests through the gateway, abandoned ones included, leave no timers behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const round = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const stream = i % 2 === 0;
        const ac = new AbortController();
        const res = await fetch(`${gw.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
          body: JSON.stringify({ model: 'gpt-leak', messages: [{ role: 'user', content: `r ${i}` }], stream, temperature: i % 5 === 0 ? 0 : 1 }),
          signal: ac.signal,
        });
        expect(res.status).toBe(200);
        if (i % 7 === 6) {
          await res.body!.getReader().read();
          ac.abort();
        } else await res.text();
      }
      await waitUntil(() => fake.inFlight === 0, { timeoutMs: 10_000 });
    };
    await round(14);
    const afterFew = timers();
    await round(140);
    // One timer per request (or per abandoned one) would add 140 (or 20) here.
    expect(timers()).toBeLessThanOrEqual(afterFew + 3);
  });
});
