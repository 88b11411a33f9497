/** Encryption at rest holds answers of any size the cache accepts (a large one used to overflow the stack). */
import { describe, expect, it } from 'vitest';
import { EncryptedCache } from '../../gateway/cache/encrypted-cache.js';
import { MemoryCache } from '../../gateway/cache/memory-cache.js';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('EncryptedCache', () => {
  it('round-trips a 1 MB answer and keeps only ciphertext in the store below', async () => {
    const inner = new MemoryCache(10, 16 * 1024 * 1024);
    const cache = await EncryptedCache.create(inner, KEY);
    const content = 'a long answer, '.repeat(70_000);
    await cache.set('k', { choices: [{ message: { role: 'assistant', content } }] }, 60);
    expect(await cache.get('k')).toEqual({ choices: [{ message: { role: 'assistant', content } }] });
    expect(JSON.stringify(await inner.get('k'))).not.toContain('a long answer');
  });
});
