/**
 * A CacheStore over the Workers Cache API (`caches.open`): shared by the isolates of one Cloudflare data center, not
 * replicated between data centers, and only functional on a custom domain (a no-op on *.workers.dev, per Cloudflare).
 * Fails open: any error reads as a miss, never a failed request.
 */
import type { CacheStore } from '../cache/cache-store.js';
import type { JsonObject } from '../core/types.js';
import { isJsonObject } from '../core/validate.js';

/** The slice of the Cache interface used here (present in workerd; absent on Node). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
}

// A synthetic origin: keys are gateway cache keys, never URLs a client could request.
const ORIGIN = 'https://switchyard-cache.internal/';

export class CacheApiStore implements CacheStore {
  constructor(private readonly cache: CacheLike) {}

  static async open(name = 'switchyard'): Promise<CacheApiStore> {
    return new CacheApiStore(await caches.open(name));
  }

  async get(key: string): Promise<JsonObject | undefined> {
    try {
      const res = await this.cache.match(ORIGIN + encodeURIComponent(key));
      if (!res) return undefined;
      const body: unknown = await res.json();
      return isJsonObject(body) ? body : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    const response = new Response(JSON.stringify(value), {
      headers: { 'content-type': 'application/json', 'cache-control': `max-age=${Math.max(1, Math.floor(ttlSeconds))}` },
    });
    await this.cache.put(ORIGIN + encodeURIComponent(key), response).catch(() => undefined);
  }

  async close(): Promise<void> {}
}
