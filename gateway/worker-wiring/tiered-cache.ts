/**
 * Two cache tiers: a near one (the isolate's LRU) in front of a far one shared by isolates (the Workers Cache API).
 * The far tier keeps each entry's expiry beside it, so a far hit refills the near tier for only the time left.
 */
import type { CacheStore } from '../cache/cache-store.js';
import type { JsonObject } from '../core/types.js';
import { isJsonObject } from '../core/validate.js';

export class TieredCache implements CacheStore {
  constructor(
    private readonly near: CacheStore,
    private readonly far: CacheStore,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<JsonObject | undefined> {
    const hit = await this.near.get(key);
    if (hit) return hit;
    const boxed = await this.far.get(key);
    const value = boxed?.['value'];
    const expiresAt = boxed?.['expiresAt'];
    if (!isJsonObject(value) || typeof expiresAt !== 'number') return undefined;
    const left = Math.floor((expiresAt - this.now()) / 1000);
    if (left <= 0) return undefined;
    await this.near.set(key, value, left);
    return value;
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    await Promise.all([this.near.set(key, value, ttlSeconds), this.far.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 }, ttlSeconds)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.near.close(), this.far.close()]);
  }
}
