/** Config for breakers, retries and the retry budget (one `resilience:` section for every upstream). */
import { z } from 'zod';

export const breakerSchema = z.strictObject({
  /** Open when at least this % of calls in the window failed... */
  error_threshold_pct: z.number().min(1).max(100).default(50),
  /** ...and at least this many calls were made in it. */
  volume_threshold: z.number().int().positive().default(5),
  window_ms: z.number().int().positive().default(10_000),
  /** How long an open breaker waits before letting one probe through (half-open). */
  reset_ms: z.number().int().positive().default(5_000),
});

export const resilienceSchema = z.strictObject({
  /** Retries per destination, before the first byte only, on connect errors, 429 and 5xx. */
  retries: z.number().int().nonnegative().default(2),
  backoff_base_ms: z.number().int().positive().default(100),
  backoff_max_ms: z.number().int().positive().default(2_000),
  /** Retries may be at most this share of recent requests... */
  retry_budget_ratio: z.number().min(0).max(1).default(0.1),
  /** ...except that this many retries may always be in flight (so a quiet gateway can still fail over). */
  retry_min_concurrency: z.number().int().nonnegative().default(3),
  breaker: breakerSchema.default(() => breakerSchema.parse({})),
  /** Hedge requests to a second destination when the first is slower than its p95 time to first byte. */
  hedge: z.boolean().default(false),
  /** Hedge delay before enough samples exist, and its floor. */
  hedge_default_ms: z.number().int().positive().default(1_000),
  hedge_min_ms: z.number().int().nonnegative().default(20),
});

export type ResilienceConfig = z.infer<typeof resilienceSchema>;
export type BreakerConfig = z.infer<typeof breakerSchema>;
