/** The CacheStore seam: answers by key with a TTL. Backends: memory LRU (embedded default), Redis (shared). */
import type { JsonObject } from '../core/types.js';

export interface CacheStore {
  get(key: string): Promise<JsonObject | undefined>;
  set(key: string, value: JsonObject, ttlSeconds: number): Promise<void>;
  close(): Promise<void>;
}
