/** In-memory LRU cache bounded by entries and bytes, with per-entry TTL. */
import type { JsonObject } from '../core/types.js';
import type { CacheStore } from './cache-store.js';

export class MemoryCache implements CacheStore {
  private readonly map = new Map<string, { value: string; expiresAt: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<JsonObject | undefined> {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.delete(key);
      return undefined;
    }
    // Touch: most recently used moves to the end.
    this.map.delete(key);
    this.map.set(key, e);
    return JSON.parse(e.value) as JsonObject;
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    const text = JSON.stringify(value);
    if (text.length > this.maxBytes) return;
    this.delete(key);
    this.map.set(key, { value: text, expiresAt: this.now() + ttlSeconds * 1000 });
    this.bytes += text.length;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.bytes -= e.value.length;
    this.map.delete(key);
  }

  async close(): Promise<void> {}
}
