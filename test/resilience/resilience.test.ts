/** Breakers, retries and fallback against real fake upstreams on loopback. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import type { RequestContext } from '../../gateway/core/request-context.js';
import { ClockBreaker } from '../../gateway/resilience/clock-breaker.js';
import { RetryBudget } from '../../gateway/resilience/retry-budget.js';
import { BreakerOpenError } from '../../gateway/resilience/breaker.js';

let a: FakeOpenAI;
let b: FakeOpenAI;
let gw: TestGateway;
const done: RequestContext[] = [];
const ask = (content: string) => gw.client.chat.completions.create({ model: 'gpt-a', messages: [{ role: 'user', content }] });

beforeAll(async () => {
  a = await startFakeOpenAI();
  b = await startFakeOpenAI();
  gw = await startTestGateway(
    {
      resilience: { retries: 2, backoff_base_ms: 20, breaker: { error_threshold_pct: 50, volume_threshold: 4, window_ms: 10_000, reset_ms: 800 } },
      upstreams: [
        { id: 'primary', url: a.url, models: ['gpt-a'], timeouts: { connect_ms: 1000 } },
        { id: 'backup', url: b.url, models: ['gpt-a'] },
      ],
    },
    { onComplete: (ctx) => done.push({ ...ctx }) },
  );
});
afterAll(async () => {
  await gw?.shutdown();
  await a?.close();
  await b?.close();
});

const breakerOf = async (id: string) => {
  const r = (await (await fetch(`${gw.url}/admin/upstreams`)).json()) as { data: Array<{ id: string; breaker: string }> };
  return r.data.find((u) => u.id === id)!.breaker;
};

describe('retries', () => {
  it('honours Retry-After before retrying a 429', async () => {
    a.reset();
    a.setFault({ status: 429, retryAfter: 1, times: 1 });
    const r = await ask('retry after');
    expect(r.choices[0]!.message.content).toContain('retry after');
    expect(a.requests).toHaveLength(2);
    expect(a.requests[1]!.receivedAt - a.requests[0]!.receivedAt).toBeGreaterThanOrEqual(1000);
  });

  it('retries a 5xx on the same upstream before falling back', async () => {
    a.reset();
    b.reset();
    a.setFault({ status: 503, times: 1 });
    await ask('one blip');
    expect(a.requests).toHaveLength(2);
    expect(b.requests).toHaveLength(0);
  });
});

describe('breaker and fallback', () => {
  it('an upstream dying costs no failed request: the breaker opens and the backup serves', async () => {
    a.reset();
    b.reset();
    done.length = 0;
    await a.kill();
    for (let i = 0; i < 20; i++) {
      const r = await ask(`during outage ${i}`);
      expect(r.choices[0]!.message.content).toContain(`during outage ${i}`);
    }
    expect(await breakerOf('primary')).toBe('open');
    // Once open, the primary is skipped outright: no attempts wasted on it. (On a slow machine the breaker may already
    // let one half-open probe through late in the loop, so look at the last few requests rather than only the last.)
    const tail = done.slice(-5);
    expect(tail.every((d) => d.upstream === 'backup')).toBe(true);
    expect(tail.some((d) => d.attempts === 1)).toBe(true);
    expect(done.some((d) => d.fallbackUsed)).toBe(true);
  });

  it('a recovered upstream is probed half-open and takes traffic again', async () => {
    await a.restart();
    a.reset();
    await waitUntil(
      async () => {
        await ask('probe');
        return a.requests.length > 0 && (await breakerOf('primary')) === 'closed';
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    a.reset();
    await ask('back to primary');
    expect(a.requests).toHaveLength(1);
  });
});

describe('clock breaker and retry budget', () => {
  it('opens past the threshold, lets one probe through after reset, closes on success', async () => {
    let now = 0;
    const br = new ClockBreaker('u', { error_threshold_pct: 50, volume_threshold: 4, window_ms: 10_000, reset_ms: 1000 }, () => now);
    const fail = () =>
      br
        .run(
          () => Promise.reject(new Error('x')),
          () => true,
        )
        .catch(() => undefined);
    for (let i = 0; i < 4; i++) await fail();
    expect(br.state).toBe('open');
    await expect(
      br.run(
        () => Promise.resolve(1),
        () => true,
      ),
    ).rejects.toBeInstanceOf(BreakerOpenError);
    now = 1000;
    expect(br.state).toBe('half-open');
    await expect(
      br.run(
        () => Promise.resolve(2),
        () => true,
      ),
    ).resolves.toBe(2);
    expect(br.state).toBe('closed');
  });

  it('limits retries to the ratio of recent traffic above a concurrency floor', () => {
    const budget = new RetryBudget(0.1, 2, 10_000, () => 0);
    for (let i = 0; i < 10; i++) budget.request();
    expect(budget.tryAcquire()).toBe(true); // floor
    expect(budget.tryAcquire()).toBe(true); // floor
    expect(budget.tryAcquire()).toBe(false); // 2 retries > 10% of 10 requests, floor used up
    budget.done();
    budget.done();
    for (let i = 0; i < 30; i++) budget.request();
    expect(budget.tryAcquire()).toBe(true); // 2 < 10% of 40
  });
});

describe('hedging', () => {
  it('starts a second destination when the first is slow, takes the first answer and cancels the other', async () => {
    const slow = await startFakeOpenAI();
    const quick = await startFakeOpenAI();
    const hedgeGw = await startTestGateway(
      {
        resilience: { hedge: true, hedge_default_ms: 200, retries: 0 },
        upstreams: [
          { id: 'slow', url: slow.url, models: ['gpt-h'] },
          { id: 'quick', url: quick.url, models: ['gpt-h'] },
        ],
      },
      { onComplete: (ctx) => done.push({ ...ctx }) },
    );
    try {
      done.length = 0;
      slow.setFault({ firstByteDelayMs: 5_000 });
      const t0 = Date.now();
      const r = await hedgeGw.client.chat.completions.create({ model: 'gpt-h', messages: [{ role: 'user', content: 'hedge me' }] });
      expect(r.choices[0]!.message.content).toContain('hedge me');
      expect(Date.now() - t0).toBeLessThan(4_000);
      expect(quick.requests).toHaveLength(1);
      await waitUntil(() => slow.aborted === 1, { timeoutMs: 10_000 });
      expect(done[0]!.hedged).toBe(true);
      expect(done[0]!.upstream).toBe('quick');
      // A fast primary is not hedged.
      slow.reset();
      quick.reset();
      done.length = 0;
      await hedgeGw.client.chat.completions.create({ model: 'gpt-h', messages: [{ role: 'user', content: 'no hedge' }] });
      expect(quick.requests).toHaveLength(0);
      expect(done[0]!.hedged).toBeUndefined();
    } finally {
      await hedgeGw.shutdown();
      await slow.close();
      await quick.close();
    }
  });
});

describe('timeouts', () => {
  it('an upstream that goes idle mid-stream ends the stream with an error event', async () => {
    const idle = await startFakeOpenAI();
    const g = await startTestGateway({
      resilience: { retries: 0 },
      upstreams: [{ id: 'idle', url: idle.url, models: ['gpt-i'], timeouts: { idle_ms: 500 } }],
    });
    try {
      idle.setFault({ holdAfterFirstChunk: true });
      const stream = await g.client.chat.completions.create({ model: 'gpt-i', messages: [{ role: 'user', content: 'go quiet' }], stream: true });
      let chunks = 0;
      const err = await (async () => {
        for await (const _ of stream) chunks++;
      })().catch((e: unknown) => e);
      expect(chunks).toBeGreaterThanOrEqual(1);
      expect(String((err as Error).message)).toMatch(/idle/);
    } finally {
      idle.release();
      await g.shutdown();
      await idle.close();
    }
  });

  it('a total timeout ends a slow non-streaming call with 504', async () => {
    const slow = await startFakeOpenAI();
    const g = await startTestGateway({
      resilience: { retries: 0 },
      upstreams: [{ id: 'slowpoke', url: slow.url, models: ['gpt-s'], timeouts: { total_ms: 400 } }],
    });
    try {
      slow.setFault({ firstByteDelayMs: 3_000 });
      const err = await g.client.chat.completions.create({ model: 'gpt-s', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect((err as { status?: number }).status).toBe(504);
      expect(String((err as Error).message)).toMatch(/slowpoke/);
    } finally {
      await g.shutdown();
      await slow.close();
    }
  });
});
