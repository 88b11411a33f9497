/**
 * The in-memory result cache stays within `cache.max_bytes` by what it really holds: the UTF-8 bytes of every value
 * and key plus a fixed cost per entry, under random sizes and non-ASCII text (where one character is up to 4 bytes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES, MemoryCache } from '../../gateway/cache/memory-cache.js';
import type { JsonObject } from '../../gateway/core/types.js';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
/** What an entry holds, counted independently of the cache's own bookkeeping. */
const held = (key: string, value: JsonObject) => utf8(JSON.stringify(value)) + utf8(key) + ENTRY_OVERHEAD_BYTES;

// Characters of 1, 2, 3 and 4 UTF-8 bytes.
const text = fc.array(fc.constantFrom('a', 'é', '漢', '😀', ' '), { maxLength: 3000 }).map((cs) => cs.join(''));

describe('MemoryCache byte cap', () => {
  it('never holds more than max_bytes of entries, whatever the sizes and encodings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4_000, max: 200_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), text), { minLength: 1, maxLength: 300 }),
        async (maxBytes, writes) => {
          const cache = new MemoryCache(100_000, maxBytes);
          const written = new Map<string, JsonObject>();
          for (const [k, content] of writes) {
            const key = `v1:${k.toString(16).padStart(64, '0')}`;
            const value: JsonObject = { choices: [{ message: { role: 'assistant', content } }] };
            await cache.set(key, value, 60);
            written.set(key, value);
            // The cache's own count agrees with an independent one of everything it can still answer.
            let total = 0;
            for (const [wk, wv] of written) if ((await cache.get(wk)) !== undefined) total += held(wk, wv);
            expect(total).toBe(cache.size.bytes);
            expect(total).toBeLessThanOrEqual(maxBytes);
          }
        },
      ),
      { seed: 16, numRuns: 40 },
    );
  });

  it('evicts least recently used first, and an entry larger than the cap is not stored', async () => {
    const value = (n: number): JsonObject => ({ content: 'x'.repeat(n) });
    const one = held('a', value(100));
    const cache = new MemoryCache(100, one * 2);
    await cache.set('a', value(100), 60);
    await cache.set('b', value(100), 60);
    await cache.get('a'); // a is now the most recently used
    await cache.set('c', value(100), 60);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toEqual(value(100));
    expect(await cache.get('c')).toEqual(value(100));
    await cache.set('huge', value(one * 3), 60);
    expect(await cache.get('huge')).toBeUndefined();
    expect(cache.size).toEqual({ entries: 2, bytes: one * 2 });
  });

  it('replacing a key does not count it twice', async () => {
    const cache = new MemoryCache(100, 1_000_000);
    for (let i = 0; i < 50; i++) await cache.set('same', { n: i }, 60);
    expect(cache.size).toEqual({ entries: 1, bytes: held('same', { n: 49 }) });
  });
});
