/** Redis cache shared by replicas. Trouble never fails a request: errors and timeouts read as misses (counted). */
import { createRedisClient, type RedisClient, type RedisTarget } from '../redis/redis-connection.js';
import type { JsonObject } from '../core/types.js';
import type { CacheStore } from './cache-store.js';

export class RedisCache implements CacheStore {
  private readonly redis: RedisClient;
  errors = 0;

  constructor(
    target: RedisTarget | string,
    private readonly prefix: string,
    commandTimeoutMs: number,
  ) {
    this.redis = createRedisClient(typeof target === 'string' ? { url: target } : target, {
      commandTimeout: commandTimeoutMs,
      maxRetriesPerRequest: 0,
      // While disconnected, fail at once (a miss) instead of queueing behind the reconnect.
      enableOfflineQueue: false,
    });
  }

  async get(key: string): Promise<JsonObject | undefined> {
    try {
      const v = await this.redis.get(this.prefix + key);
      return v ? (JSON.parse(v) as JsonObject) : undefined;
    } catch {
      this.errors++;
      return undefined;
    }
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    try {
      await this.redis.set(this.prefix + key, JSON.stringify(value), 'EX', Math.max(1, Math.round(ttlSeconds)));
    } catch {
      this.errors++;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
