/** Config for the result cache. */
import { z } from 'zod';

export const cacheSchema = z.strictObject({
  /** memory: an LRU in this process (default); redis: shared by replicas (needs `redis:`); off: no caching at all. */
  backend: z.enum(['memory', 'redis', 'off']).default('memory'),
  /** At most 1,000,000: the LRU's bookkeeping is allocated up front (~24 MB at that cap); bytes are capped below. */
  max_entries: z.number().int().positive().max(1_000_000).default(10_000),
  /** Memory backend: the most it holds, counting each entry's UTF-8 value and key plus a fixed per-entry overhead. */
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  /** Redis command timeout for the cache: a slow Redis reads as a miss, never a failed request. */
  command_timeout_ms: z.number().int().positive().default(50),
  /** Encrypt entries at rest with AES-256-GCM: 32 bytes, base64 (use `${ENV}` for it). */
  encryption_key: z.string().min(1).optional(),
  /** Vectors the semantic cache keeps in memory (all tenants); the oldest go first. */
  semantic_max_entries: z.number().int().positive().default(100_000),
});

export type CacheConfig = z.infer<typeof cacheSchema>;
