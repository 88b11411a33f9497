/** Config of spend budgets' behaviour when their counter store (Redis) is slow or down; the budgets themselves are policy. */
import { z } from 'zod';

export const budgetFaultSchema = z.strictObject({
  /**
   * A Redis error or timeout while checking a budget: `fail_open` serves the request without enforcing (as rate limits
   * do), `fail_closed` answers 503 `budget_unavailable` with Retry-After. Either way counted in /metrics and logged once
   * per outage, never a 500.
   */
  on_store_error: z.enum(['fail_open', 'fail_closed']).default('fail_open'),
  /** Retry-After (seconds) on a `budget_unavailable` answer. */
  retry_after_s: z.number().int().positive().default(1),
  /** A reservation never settled (the gateway died mid-request) is released by itself after this long. */
  hold_ms: z.number().int().positive().default(900_000),
  /** Attempts to settle a reservation with the actual cost (backoff 100 ms doubling, capped at 5 s) before giving up. */
  settle_attempts: z.number().int().positive().default(8),
});

export type BudgetFaultConfig = z.infer<typeof budgetFaultSchema>;
