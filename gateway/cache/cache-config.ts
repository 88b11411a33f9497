/** Config for the result cache. */
import { z } from 'zod';

export const cacheSchema = z.strictObject({
  /** memory: an LRU in this process (default); redis: shared by replicas (needs `redis:`); off: no caching at all. */
  backend: z.enum(['memory', 'redis', 'off']).default('memory'),
  max_entries: z.number().int().positive().default(10_000),
  max_bytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** Redis command timeout for the cache: a slow Redis reads as a miss, never a failed request. */
  command_timeout_ms: z.number().int().positive().default(50),
});

export type CacheConfig = z.infer<typeof cacheSchema>;
