/**
 * Held reservations (what budgets use): idempotent by id, settled once, released by themselves when never settled,
 * and — against a real redis-server paused at random with CLIENT PAUSE while commands time out — the counter equals
 * the actual spend after any interleaving of timeouts, retries and late-landing commands.
 */
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CounterStore, HoldOptions } from '../../gateway/counters/counter-store.js';
import { MemoryCounterStore } from '../../gateway/counters/memory-counter-store.js';
import { RedisCounterStore } from '../../gateway/counters/redis-counter-store.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const EXP = () => Date.now() + 3_600_000;
const hold = (ms = 60_000): HoldOptions => ({ holdUntil: Date.now() + ms, rememberUntil: Date.now() + ms + 60_000 });
const uniquePrefix = () => `h${Math.random().toString(36).slice(2)}:`;

const stores: Array<[string, () => CounterStore]> = [
  ['memory', () => new MemoryCounterStore()],
  ['redis', () => new RedisCounterStore({ url: redis.url, keyPrefix: uniquePrefix(), commandTimeoutMs: 5000 })],
];

describe.each(stores)('%s store: held reservations', (_name, make) => {
  it('a repeated reserve with one id holds once; settling moves the counter to the actual amount, once', async () => {
    const s = make();
    const item = { key: 'b', amount: 100, limit: 1000, expiresAt: EXP() };
    expect((await s.reserveHeld('r1', [item], hold())).ok).toBe(true);
    expect((await s.reserveHeld('r1', [item], hold())).ok).toBe(true);
    expect(await s.get(['b'])).toEqual([100]);
    await s.settle('r1', [{ key: 'b', amount: 30, expiresAt: item.expiresAt }], hold());
    await s.settle('r1', [{ key: 'b', amount: 30, expiresAt: item.expiresAt }], hold());
    expect(await s.get(['b'])).toEqual([30]);
    await s.close();
  });

  it('a reserve landing after its settle is a no-op; a settle without a hold charges the actual amount', async () => {
    const s = make();
    const exp = EXP();
    await s.settle('late', [{ key: 'c', amount: 40, expiresAt: exp }], hold());
    expect(await s.get(['c'])).toEqual([40]);
    expect((await s.reserveHeld('late', [{ key: 'c', amount: 100, limit: 1000, expiresAt: exp }], hold())).ok).toBe(true);
    expect(await s.get(['c'])).toEqual([40]);
    await s.close();
  });

  it('refuses past the limit without holding anything', async () => {
    const s = make();
    const exp = EXP();
    expect(await s.reserveHeld('a', [{ key: 'd', amount: 900, limit: 1000, expiresAt: exp }], hold())).toEqual({ ok: true, values: [900] });
    expect(await s.reserveHeld('b', [{ key: 'd', amount: 200, limit: 1000, expiresAt: exp }], hold())).toEqual({ ok: false, index: 0, current: 900 });
    await s.settle('b', [{ key: 'd', amount: 0, expiresAt: exp }], hold());
    expect(await s.get(['d'])).toEqual([900]);
    await s.close();
  });
});

describe('self-healing', () => {
  it('memory: a hold never settled is refunded after its time; a settle after that charges the actual amount', async () => {
    let now = 1_000_000;
    const s = new MemoryCounterStore(() => now);
    const exp = now + 3_600_000;
    const opts = { holdUntil: now + 5_000, rememberUntil: now + 10_000 };
    await s.reserveHeld('x', [{ key: 'e', amount: 70, limit: 1000, expiresAt: exp }], opts);
    now += 6_000;
    await s.reserveHeld('other', [{ key: 'f', amount: 1, limit: 10, expiresAt: exp }], { holdUntil: now + 5_000, rememberUntil: now + 10_000 });
    expect(await s.get(['e'])).toEqual([0]);
    await s.settle('x', [{ key: 'e', amount: 25, expiresAt: exp }], opts);
    expect(await s.get(['e'])).toEqual([25]);
    await s.close();
  });

  it('redis: a hold never settled is refunded by the next call after its time', async () => {
    const s = new RedisCounterStore({ url: redis.url, keyPrefix: uniquePrefix(), commandTimeoutMs: 5000 });
    const exp = EXP();
    await s.reserveHeld('crashed', [{ key: 'g', amount: 70, limit: 1000, expiresAt: exp }], hold(150));
    await s.reserveHeld('alive', [{ key: 'g', amount: 5, limit: 1000, expiresAt: exp }], hold());
    expect(await s.get(['g'])).toEqual([75]);
    await waitUntil(
      async () => {
        await s.settle('probe', [], hold()); // any call releases holds past their time
        return (await s.get(['g']))[0] === 5;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    await s.close();
  });
});

describe('memory: bounded bookkeeping', () => {
  it('remembers at most 10,000 settled ids and holds nothing after settling 25,000 requests', async () => {
    const s = new MemoryCounterStore();
    const exp = EXP();
    for (let i = 0; i < 25_000; i++) {
      await s.reserveHeld(`r${i}`, [{ key: 'k', amount: 2, limit: 1e12, expiresAt: exp }], hold());
      await s.settle(`r${i}`, [{ key: 'k', amount: 1, expiresAt: exp }], hold());
    }
    expect(await s.get(['k'])).toEqual([25_000]);
    expect(s.sizes).toEqual({ counters: 1, holds: 0, remembered: 10_000 });
  });
});

describe('redis: counter equals actual spend under random command timeouts (CLIENT PAUSE)', () => {
  it('holds/settles with random pauses, retries and abandoned requests', async () => {
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    let timedOut = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              estimate: fc.integer({ min: 1, max: 60 }),
              actual: fc.integer({ min: 0, max: 80 }),
              pauseMs: fc.oneof(fc.constant(0), fc.integer({ min: 20, max: 120 })),
              startAfterMs: fc.integer({ min: 0, max: 60 }),
              retryReserve: fc.boolean(),
              failClosed: fc.boolean(),
              abandoned: fc.boolean(),
            }),
            { minLength: 5, maxLength: 20 },
          ),
          async (reqs) => {
            const prefix = uniquePrefix();
            // 25 ms command timeout: a pause of 20-120 ms makes commands time out on the client yet run in Redis later.
            const s = new RedisCounterStore({ url: redis.url, keyPrefix: prefix, commandTimeoutMs: 25 });
            const exp = EXP();
            const expected = await Promise.all(
              reqs.map(async (r, i) => {
                await new Promise((res) => setTimeout(res, r.startAfterMs));
                if (r.pauseMs > 0) void admin.call('CLIENT', 'PAUSE', String(r.pauseMs), 'ALL').catch(() => undefined);
                const id = `req-${i}`;
                const opts = r.abandoned ? hold(300) : hold();
                const item = { key: 'spend', amount: r.estimate, limit: 1_000_000, expiresAt: exp };
                let served = true;
                try {
                  await s.reserveHeld(id, [item], opts);
                } catch {
                  timedOut++;
                  if (r.retryReserve) await s.reserveHeld(id, [item], opts).catch(() => undefined);
                  served = !r.failClosed; // fail_closed refuses the request: it settles with 0
                }
                // A gateway that died mid-request never settles: its hold must release itself.
                if (r.abandoned) return 0;
                const amount = served ? r.actual : 0;
                await waitUntil(
                  () =>
                    s.settle(id, [{ key: 'spend', amount, expiresAt: exp }], opts).then(
                      () => true,
                      () => false,
                    ),
                  { timeoutMs: 20_000, intervalMs: 10 },
                );
                return amount;
              }),
            );
            const want = expected.reduce((a, b) => a + b, 0);
            const reader = new RedisCounterStore({ url: redis.url, keyPrefix: prefix, commandTimeoutMs: 5000 });
            try {
              // Late commands land and abandoned holds expire; each settle probe sweeps.
              await waitUntil(
                async () => {
                  await reader.settle('probe', [], hold());
                  return (await reader.get(['spend']))[0] === want;
                },
                { timeoutMs: 15_000, intervalMs: 50, message: `counter never reached ${want}` },
              );
            } finally {
              await reader.close();
              await s.close();
            }
          },
        ),
        { numRuns: 12 },
      );
      // The property is only meaningful if commands really timed out on the client.
      expect(timedOut).toBeGreaterThan(0);
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      admin.disconnect();
    }
  }, 180_000);
});
