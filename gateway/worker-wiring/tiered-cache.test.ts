/** The two cache tiers: near first, far on a near miss, and a far hit refills the near tier for only the time left. */
import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../cache/memory-cache.js';
import { TieredCache } from './tiered-cache.js';

describe('TieredCache', () => {
  it('serves from the far tier once the near one has evicted, for the remaining time only', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const near = new MemoryCache(1, 1 << 20, clock);
    const far = new MemoryCache(100, 1 << 20, clock);
    const cache = new TieredCache(near, far, clock);
    await cache.set('a', { answer: 'A' }, 60);
    await cache.set('b', { answer: 'B' }, 60);
    expect(await near.get('a')).toBeUndefined();
    now += 50_000;
    expect(await cache.get('a')).toEqual({ answer: 'A' });
    // Refilled near for the 10 s left, not a fresh 60 s.
    expect(await near.get('a')).toEqual({ answer: 'A' });
    now += 11_000;
    expect(await near.get('a')).toBeUndefined();
    expect(await cache.get('a')).toBeUndefined();
  });

  it('treats a far entry without its expiry as a miss', async () => {
    const far = new MemoryCache();
    await far.set('x', { answer: 'raw' }, 60);
    expect(await new TieredCache(new MemoryCache(), far).get('x')).toBeUndefined();
  });
});
