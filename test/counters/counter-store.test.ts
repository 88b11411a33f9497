/** Both CounterStores: atomic all-or-nothing reservations, no overspend under concurrency, windows that expire. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCounterStore } from '../../gateway/counters/memory-counter-store.js';
import { RedisCounterStore } from '../../gateway/counters/redis-counter-store.js';
import type { CounterStore } from '../../gateway/counters/counter-store.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

let redis: TestRedis;
const stores: Array<[string, () => CounterStore]> = [
  ['memory', () => new MemoryCounterStore()],
  ['redis', () => new RedisCounterStore({ url: redis.url, keyPrefix: `t${Math.random().toString(36).slice(2)}:`, commandTimeoutMs: 5000 })],
];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe.each(stores)('%s counter store', (_name, make) => {
  it('200 concurrent reservations against a nearly spent limit never overspend', async () => {
    const s = make();
    const exp = Date.now() + 60_000;
    await s.adjust('budget', 990, exp);
    const results = await Promise.all(Array.from({ length: 200 }, () => s.reserve([{ key: 'budget', amount: 3, limit: 1000, expiresAt: exp }])));
    const granted = results.filter((r) => r.ok).length;
    expect(granted).toBe(3);
    expect((await s.get(['budget']))[0]).toBe(999);
    await s.close();
  });

  it('is all or nothing across keys and names the key that refused', async () => {
    const s = make();
    const exp = Date.now() + 60_000;
    const r1 = await s.reserve([
      { key: 'a', amount: 5, limit: 10, expiresAt: exp },
      { key: 'b', amount: 5, limit: 6, expiresAt: exp },
    ]);
    expect(r1.ok).toBe(true);
    const r2 = await s.reserve([
      { key: 'a', amount: 2, limit: 10, expiresAt: exp },
      { key: 'b', amount: 2, limit: 6, expiresAt: exp },
    ]);
    expect(r2).toEqual({ ok: false, index: 1, current: 5 });
    expect(await s.get(['a', 'b'])).toEqual([5, 5]);
    await s.close();
  });

  it('forgets a window after it expires', async () => {
    const s = make();
    const exp = Date.now() + 300;
    await s.reserve([{ key: 'w', amount: 7, limit: 10, expiresAt: exp }]);
    expect((await s.get(['w']))[0]).toBe(7);
    await waitUntil(async () => (await s.get(['w']))[0] === 0, { timeoutMs: 10_000 });
    await s.close();
  });
});
