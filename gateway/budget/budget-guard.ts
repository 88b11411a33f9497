/**
 * Cost caps and spend budgets: estimates a request's cost before sending (prompt bytes / 4 + max_tokens, or an output
 * allowance when absent), applies the per-request cap, holds the estimate on every matching budget's day and month
 * counters in one atomic call under a reservation id (Redis Lua across replicas), and settles the hold with the actual
 * cost when the request ends. Fallbacks to another destination are admitted by the same guard (`admitFallback`).
 *
 * Counter-store trouble (a slow or dead Redis) follows `budgets.on_store_error`: `fail_open` serves without enforcing,
 * `fail_closed` answers 503 `budget_unavailable`; never a 500. Holds are idempotent by id and release themselves if
 * never settled, so the counter equals actual spend after any interleaving of timeouts and retries.
 */
import type { CounterReservation, CounterStore, HoldOptions } from '../counters/counter-store.js';
import { peekReservation } from '../counters/peek-reservation.js';
import type { CostRules, Decision, RouteCandidate } from '../core/decision.js';
import { GatewayError } from '../core/errors.js';
import type { InferenceRequest } from '../core/inference-request.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { RequestContext } from '../core/request-context.js';
import type { PricesConfig } from '../records/records-config.js';
import { costOf } from '../records/request-record.js';
import type { BudgetFaultConfig } from './budget-config.js';
import { StoreOutage } from './store-outage.js';

const MICROS = 1_000_000;

function windows(now: number): { day: string; dayEnd: number; month: string; monthEnd: number } {
  const d = new Date(now);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return {
    day: new Date(dayStart).toISOString().slice(0, 10),
    dayEnd: dayStart + 86_400_000,
    month: new Date(monthStart).toISOString().slice(0, 7),
    monthEnd: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  };
}

const DEFAULT_FAULTS: BudgetFaultConfig = { on_store_error: 'fail_open', retry_after_s: 1, hold_ms: 900_000, settle_attempts: 8 };

/** Settles still being retried; past this many, new ones are given up (their holds release themselves). */
const MAX_PENDING_SETTLES = 10_000;

export class BudgetGuard {
  private readonly faults: BudgetFaultConfig;
  private readonly outage: StoreOutage;
  private pendingSettles = 0;
  /** Settles abandoned after every attempt failed (their holds were released by expiry instead). */
  settlesAbandoned = 0;

  constructor(
    private readonly store: CounterStore,
    private readonly prices: PricesConfig,
    faults: Partial<BudgetFaultConfig> = {},
    logger: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.faults = { ...DEFAULT_FAULTS, ...faults };
    this.outage = new StoreOutage(logger, this.faults.on_store_error);
  }

  private estimate(model: string, cand: RouteCandidate | undefined, promptTokens: number, outTokens: number): number {
    return costOf(this.prices, model, cand?.zone ?? null, promptTokens, outTokens).cost;
  }

  private holdOptions(): HoldOptions {
    const holdUntil = this.now() + this.faults.hold_ms;
    return { holdUntil, rememberUntil: holdUntil + this.faults.hold_ms };
  }

  /** The store failed: `fail_open` returns (serve without enforcing), `fail_closed` throws 503 budget_unavailable. */
  private onStoreError(err: unknown, ctx: RequestContext): void {
    this.outage.failed(err);
    if (this.faults.on_store_error === 'fail_open') {
      ctx.budgetFault = 'fail_open';
      return;
    }
    ctx.budgetFault = 'fail_closed';
    throw new GatewayError('Spend budgets cannot be checked right now (their store is unavailable); try again shortly.', {
      status: 503,
      code: 'budget_unavailable',
      headers: { 'retry-after': String(this.faults.retry_after_s) },
    });
  }

  /** Applies caps and budgets; returns the (possibly downgraded) decision. Registers settlement on ctx. */
  /** With `dryRun` (explain): the same outcome a real request would get, nothing held, nothing registered. */
  async apply(decision: Decision, ctx: RequestContext, request: InferenceRequest, opts: { dryRun?: boolean } = {}): Promise<Decision> {
    const rules: CostRules | undefined = decision.cost;
    if (!rules) return decision;
    const { model } = request;
    const { prompt, output: out } = request.tokens;
    const estimateOf = (c: RouteCandidate | undefined) => this.estimate(model, c, prompt, out);
    let d = decision;
    let est = estimateOf(d.candidates[0]);
    if (rules.maxRequestUsd !== undefined && est > rules.maxRequestUsd) {
      if (rules.onRequestCap === 'downgrade' && rules.downgrade.length > 0) {
        d = { ...d, candidates: rules.downgrade, trace: [...d.trace, `cost cap: estimate $${est.toFixed(6)} > $${rules.maxRequestUsd}: downgraded`] };
        est = estimateOf(d.candidates[0]);
      } else {
        throw new GatewayError(
          `This request is estimated at $${est.toFixed(6)}, over the per-request cap of $${rules.maxRequestUsd} (rule '${d.ruleId}'). Lower max_tokens or shorten the prompt.`,
          { status: 429, code: 'budget_exceeded' },
        );
      }
    }
    const w = windows(this.now());
    const counters = rules.budgets.flatMap((b) => [
      ...(b.dayUsd !== undefined
        ? [{ key: `${b.counter}:day:${w.day}`, limitUsd: b.dayUsd, expiresAt: w.dayEnd + 3_600_000, label: `${b.id} (day)` }]
        : []),
      ...(b.monthUsd !== undefined
        ? [{ key: `${b.counter}:month:${w.month}`, limitUsd: b.monthUsd, expiresAt: w.monthEnd + 3_600_000, label: `${b.id} (month)` }]
        : []),
    ]);
    const itemsFor = (micros: number): CounterReservation[] =>
      counters.map((c) => ({ key: c.key, amount: micros, limit: Math.floor(c.limitUsd * MICROS), expiresAt: c.expiresAt }));

    // One id per reservation: the request id names it in Redis, a random part keeps a client-chosen id from colliding.
    const baseId = `${ctx.id}/${crypto.randomUUID()}`;
    const holds: string[] = [];
    let heldMicros = 0;
    /** Holds `micros` more under a new id; false when a budget would be exceeded, undefined when the store failed. */
    const hold = async (micros: number): Promise<{ ok: true } | { ok: false; index: number; current: number } | undefined> => {
      const id = `${baseId}/${holds.length}`;
      try {
        const r = await this.store.reserveHeld(id, itemsFor(micros), this.holdOptions());
        this.outage.succeeded();
        if (!r.ok) return r;
        holds.push(id);
        heldMicros += micros;
        return { ok: true };
      } catch (err) {
        // The hold may still land in Redis later: settling this id (with 0) makes that a no-op or refunds it.
        holds.push(id);
        this.onStoreError(err, ctx);
        return undefined;
      }
    };

    if (counters.length > 0) {
      const micros = Math.ceil(est * MICROS);
      let r;
      try {
        r = opts.dryRun
          ? await peekReservation(this.store, itemsFor(micros)).catch((err: unknown) => {
              this.onStoreError(err, ctx); // the same outcome the real request gets from a store fault
              return undefined;
            })
          : await hold(micros);
      } catch (err) {
        this.settleAll(holds, counters, 0);
        throw err;
      }
      if (r && !r.ok) {
        const over = counters[r.index]!;
        if (rules.onBudget === 'downgrade' && rules.budgetDowngrade.length > 0) {
          // The downgrade target is presumed cheap (the edge): it is not charged against the exhausted budget.
          return { ...d, candidates: rules.budgetDowngrade, trace: [...d.trace, `budget ${over.label} exhausted: downgraded`] };
        }
        throw new GatewayError(
          `Budget '${over.label}' is exhausted: $${(r.current / MICROS).toFixed(4)} of $${over.limitUsd.toFixed(4)} spent; this request was estimated at $${est.toFixed(6)}.`,
          { status: 429, code: 'budget_exceeded' },
        );
      }
    }

    if (opts.dryRun) return d;

    // A fallback is checked against the same caps and budgets at its own price; the extra is held before calling it.
    const admitFallback = async (cand: RouteCandidate): Promise<boolean> => {
      const cost = estimateOf(cand);
      if (rules.noPaidFallback && cost > 0) return false;
      if (rules.maxRequestUsd !== undefined && cost > rules.maxRequestUsd) return false;
      const extra = Math.ceil(cost * MICROS) - heldMicros;
      if (counters.length === 0 || extra <= 0) return true;
      try {
        const r = await hold(extra);
        return r === undefined || r.ok;
      } catch {
        return false; // fail_closed: this fallback is not taken; the previous destination's error stands
      }
    };

    if (counters.length > 0) {
      (ctx.finalizers ??= []).push((done) => {
        const actual = done.usage
          ? costOf(
              this.prices,
              model,
              (d.candidates.find((c) => c.upstream.id === done.upstream) ?? d.candidates[0])?.zone ?? null,
              done.usage.prompt_tokens,
              done.usage.completion_tokens,
            ).cost
          : done.status < 400
            ? est
            : 0;
        this.settleAll(holds, counters, Math.ceil(actual * MICROS));
      });
    }
    return { ...d, admitFallback };
  }

  /** The first hold carries the actual cost, every other one is released; each settle is retried until it lands. */
  private settleAll(holds: readonly string[], counters: ReadonlyArray<{ key: string; expiresAt: number }>, actualMicros: number): void {
    holds.forEach((id, i) => {
      const actual = counters.map((c) => ({ key: c.key, amount: i === 0 ? actualMicros : 0, expiresAt: c.expiresAt }));
      this.settleWithRetries(id, actual, 0);
    });
  }

  private settleWithRetries(id: string, actual: Array<{ key: string; amount: number; expiresAt: number }>, attempt: number): void {
    if (attempt === 0 && this.pendingSettles >= MAX_PENDING_SETTLES) {
      this.settlesAbandoned++;
      return;
    }
    this.pendingSettles++;
    this.store.settle(id, actual, this.holdOptions()).then(
      () => {
        this.pendingSettles--;
        this.outage.succeeded();
      },
      (err: unknown) => {
        this.pendingSettles--;
        this.outage.failed(err);
        if (attempt + 1 >= this.faults.settle_attempts) {
          // Its hold releases itself at hold_ms; only the difference between estimate and actual is lost.
          this.settlesAbandoned++;
          return;
        }
        this.pendingSettles++;
        const timer = setTimeout(
          () => {
            this.pendingSettles--;
            this.settleWithRetries(id, actual, attempt + 1);
          },
          Math.min(5_000, 100 * 2 ** attempt),
        );
        (timer as { unref?: () => void }).unref?.();
      },
    );
  }
}
