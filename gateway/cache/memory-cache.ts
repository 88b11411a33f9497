/**
 * In-memory LRU cache bounded by entries and by bytes, with per-entry TTL. Values are kept as UTF-8 bytes outside the
 * V8 heap: the byte cap is then exact (a JS string's size depends on its encoding and, straight from JSON.stringify,
 * on a tree of concatenated pieces), and a full cache does not enlarge the heap V8 sizes its collections by.
 */
import type { JsonObject } from '../core/types.js';
import { LRUCache } from 'lru-cache';
import type { CacheStore } from './cache-store.js';

/**
 * What one entry costs beyond its key and value bytes: the Map slot, the entry object, the Uint8Array and its
 * ArrayBuffer with the backing-store bookkeeping (~270 bytes measured on Node 20; rounded up).
 */
export const ENTRY_OVERHEAD_BYTES = 320;

interface Entry {
  value: Uint8Array;
  expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Recency, the entry cap and the byte cap are lru-cache's (linked through typed arrays). A plain Map used as an LRU
 * (delete the first key on overflow) cost ~6 µs per set once full: deleted slots pile up at the front of V8's ordered
 * table and every `keys().next()` walks over them until the next rehash.
 */
export class MemoryCache implements CacheStore {
  private readonly lru: LRUCache<string, Entry>;

  constructor(
    maxEntries = 10_000,
    maxBytes = 64 * 1024 * 1024,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new LRUCache<string, Entry>({ max: maxEntries, maxSize: maxBytes });
  }

  /** Entries held and what they cost in bytes (key, value and overhead), as the caps count them. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  async get(key: string): Promise<JsonObject | undefined> {
    const e = this.lru.get(key); // a hit becomes the most recently used
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return JSON.parse(decoder.decode(e.value)) as JsonObject;
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    const bytes = encoder.encode(JSON.stringify(value));
    // Keys are ASCII (a hash); counted as stored, one byte per character.
    const size = bytes.byteLength + key.length + ENTRY_OVERHEAD_BYTES;
    // An entry larger than the whole cache is not stored (and drops the key's older value).
    if (size > this.lru.maxSize) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, { value: bytes, expiresAt: this.now() + ttlSeconds * 1000 }, { size });
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
