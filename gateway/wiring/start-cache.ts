/** Node wiring of the result cache: memory LRU or Redis, optionally encrypted at rest; none when `cache.backend: off`. */
import type { GatewayConfig } from '../config/schema.js';
import { ConfigError } from '../config/load-config.js';
import type { CacheStore } from '../cache/cache-store.js';
import { EncryptedCache } from '../cache/encrypted-cache.js';
import { MemoryCache } from '../cache/memory-cache.js';

export async function startCache(config: GatewayConfig): Promise<CacheStore | undefined> {
  const c = config.cache;
  if (c.backend === 'off') return undefined;
  if (c.backend === 'redis' && !config.redis) throw new ConfigError('cache.backend is redis but no `redis:` section is configured');
  const base =
    c.backend === 'redis' && config.redis
      ? new (await import('../cache/redis-cache.js')).RedisCache(config.redis, `${config.redis.key_prefix}cache:`, c.command_timeout_ms)
      : new MemoryCache(c.max_entries, c.max_bytes);
  if (!c.encryption_key) return base;
  return EncryptedCache.create(base, c.encryption_key).catch((err: unknown) => {
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  });
}
