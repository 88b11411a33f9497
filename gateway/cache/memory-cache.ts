/**
 * In-memory LRU cache bounded by entries and by bytes, with per-entry TTL. Values are kept as UTF-8 bytes outside the
 * V8 heap: the byte cap is then exact (a JS string's size depends on its encoding and, straight from JSON.stringify,
 * on a tree of concatenated pieces), and a full cache does not enlarge the heap V8 sizes its collections by.
 */
import type { JsonObject } from '../core/types.js';
import type { CacheStore } from './cache-store.js';

/**
 * What one entry costs beyond its key and value bytes: the Map slot, the entry object, the Uint8Array and its
 * ArrayBuffer with the backing-store bookkeeping (~270 bytes measured on Node 20; rounded up).
 */
export const ENTRY_OVERHEAD_BYTES = 320;

interface Entry {
  value: Uint8Array;
  expiresAt: number;
  bytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class MemoryCache implements CacheStore {
  private readonly map = new Map<string, Entry>();
  private used = 0;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {}

  /** Entries held and what they cost in bytes (key, value and overhead), as the caps count them. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.map.size, bytes: this.used };
  }

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
    return JSON.parse(decoder.decode(e.value)) as JsonObject;
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    this.delete(key);
    const bytes = encoder.encode(JSON.stringify(value));
    // Keys are ASCII (a hash); counted as stored, one byte per character.
    const cost = bytes.byteLength + key.length + ENTRY_OVERHEAD_BYTES;
    if (cost > this.maxBytes) return;
    this.map.set(key, { value: bytes, expiresAt: this.now() + ttlSeconds * 1000, bytes: cost });
    this.used += cost;
    while (this.map.size > this.maxEntries || this.used > this.maxBytes) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  private delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.used -= e.bytes;
    this.map.delete(key);
  }

  async close(): Promise<void> {
    this.map.clear();
    this.used = 0;
  }
}
