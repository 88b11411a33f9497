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

/** What a held reservation charges in the end: the actual amount per counter (0 releases it). */
export interface CounterSettlement {
  key: string;
  amount: number;
  expiresAt: number;
}

export interface HoldOptions {
  /** Absolute time (ms) after which an unsettled hold is released by itself (the gateway died or lost the settle). */
  holdUntil: number;
  /** How long a settled/expired id is remembered, so a late or retried reserve/settle with it is a no-op. */
  rememberUntil: number;
}

export interface CounterStore {
  /** Atomically adds every amount if every counter stays within its limit; otherwise changes nothing. */
  reserve(items: readonly CounterReservation[]): Promise<ReserveResult>;
  /** Adds `delta` (may be negative) without a limit check: reconciling an estimate with the actual amount. */
  adjust(key: string, delta: number, expiresAt: number): Promise<void>;
  /**
   * `reserve` under an id, idempotent and self-healing: a repeat with the same id changes nothing (it answers ok with
   * the current values); a hold never settled is released at `holdUntil` by any later call; a reserve arriving after
   * its id was settled is a no-op. Budgets use this because a command can time out on the gateway yet run in Redis.
   */
  reserveHeld(id: string, items: readonly CounterReservation[], opts: HoldOptions): Promise<ReserveResult>;
  /**
   * Replaces an id's hold with the actual amounts, once: the counters move by (actual - held). Without a hold (it never
   * landed, or expired and was released) the actual amounts are charged. A repeat with the same id changes nothing.
   */
  settle(id: string, actual: readonly CounterSettlement[], opts: HoldOptions): Promise<void>;
  /** Current values (0 for missing or expired counters). */
  get(keys: readonly string[]): Promise<number[]>;
  close(): Promise<void>;
}
