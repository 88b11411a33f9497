/**
 * The CounterStore seam: windowed counters shared by cost budgets and rate limits. Reservations are atomic across
 * every key in the call (all or nothing), so concurrent requests cannot together overspend a limit. Implementations:
 * memory (embedded default, one process) and Redis + Lua (shared by replicas).
 */

export interface CounterReservation {
  /** Fully-qualified counter key, e.g. `budget:tenant:acme:day:2026-11-24`. */
  key: string;
  /** Amount to add (tokens, requests, micro-dollars: integers keep Redis arithmetic exact). */
  amount: number;
  /** The reservation fails if the counter would exceed this. */
  limit: number;
  /** Absolute time (ms since epoch) when this window's counter expires. */
  expiresAt: number;
}

export type ReserveResult =
  | { ok: true; /** Counter values after the reservation, in call order. */ values: number[] }
  | { ok: false; /** Index of the first reservation that would exceed its limit. */ index: number; current: number };

export interface CounterStore {
  /** Atomically adds every amount if every counter stays within its limit; otherwise changes nothing. */
  reserve(items: readonly CounterReservation[]): Promise<ReserveResult>;
  /** Adds `delta` (may be negative) without a limit check: reconciling an estimate with the actual amount. */
  adjust(key: string, delta: number, expiresAt: number): Promise<void>;
  /** Current values (0 for missing or expired counters). */
  get(keys: readonly string[]): Promise<number[]>;
  close(): Promise<void>;
}
