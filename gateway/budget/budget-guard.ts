/**
 * Cost caps and spend budgets: estimates a request's cost before sending (prompt bytes / 4 + max_tokens, or an output
 * allowance when absent), applies the per-request cap, reserves the estimate on every matching budget's day and month
 * counters in one atomic call (Redis Lua across replicas), and reconciles with the actual cost when the request ends.
 */
import type { CounterStore } from '../counters/counter-store.js';
import { peekReservation } from '../counters/peek-reservation.js';
import type { CostRules, Decision, RouteCandidate } from '../core/decision.js';
import { GatewayError } from '../core/errors.js';
import type { InferenceRequest } from '../core/inference-request.js';
import type { RequestContext } from '../core/request-context.js';
import type { PricesConfig } from '../records/records-config.js';
import { costOf } from '../records/request-record.js';

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

export class BudgetGuard {
  constructor(
    private readonly store: CounterStore,
    private readonly prices: PricesConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private estimate(model: string, cand: RouteCandidate | undefined, promptTokens: number, outTokens: number): number {
    return costOf(this.prices, model, cand?.zone ?? null, promptTokens, outTokens).cost;
  }

  /** Applies caps and budgets; returns the (possibly downgraded) decision. Registers reconciliation on ctx. */
  /** With `dryRun` (explain): the same outcome a real request would get, nothing reserved, nothing registered. */
  async apply(decision: Decision, ctx: RequestContext, request: InferenceRequest, opts: { dryRun?: boolean } = {}): Promise<Decision> {
    const rules: CostRules | undefined = decision.cost;
    if (!rules) return decision;
    const { model } = request;
    const { prompt, output: out } = request.tokens;
    let d = decision;
    let est = this.estimate(model, d.candidates[0], prompt, out);
    if (rules.maxRequestUsd !== undefined && est > rules.maxRequestUsd) {
      if (rules.onRequestCap === 'downgrade' && rules.downgrade.length > 0) {
        d = { ...d, candidates: rules.downgrade, trace: [...d.trace, `cost cap: estimate $${est.toFixed(6)} > $${rules.maxRequestUsd}: downgraded`] };
        est = this.estimate(model, d.candidates[0], prompt, out);
      } else {
        throw new GatewayError(
          `This request is estimated at $${est.toFixed(6)}, over the per-request cap of $${rules.maxRequestUsd} (rule '${d.ruleId}'). Lower max_tokens or shorten the prompt.`,
          { status: 429, code: 'budget_exceeded' },
        );
      }
    }
    if (rules.budgets.length === 0) return d;
    const w = windows(this.now());
    const micros = Math.ceil(est * MICROS);
    const items = rules.budgets.flatMap((b) => [
      ...(b.dayUsd !== undefined
        ? [
            {
              key: `${b.counter}:day:${w.day}`,
              amount: micros,
              limit: Math.floor(b.dayUsd * MICROS),
              expiresAt: w.dayEnd + 3_600_000,
              label: `${b.id} (day)`,
            },
          ]
        : []),
      ...(b.monthUsd !== undefined
        ? [
            {
              key: `${b.counter}:month:${w.month}`,
              amount: micros,
              limit: Math.floor(b.monthUsd * MICROS),
              expiresAt: w.monthEnd + 3_600_000,
              label: `${b.id} (month)`,
            },
          ]
        : []),
    ]);
    if (items.length === 0) return d;
    const r = opts.dryRun ? await peekReservation(this.store, items) : await this.store.reserve(items);
    if (!r.ok) {
      const over = items[r.index]!;
      if (rules.onBudget === 'downgrade' && rules.budgetDowngrade.length > 0) {
        // The downgrade target is presumed cheap (the edge): it is not charged against the exhausted budget.
        return { ...d, candidates: rules.budgetDowngrade, trace: [...d.trace, `budget ${over.label} exhausted: downgraded`] };
      }
      throw new GatewayError(
        `Budget '${over.label}' is exhausted: $${(r.current / MICROS).toFixed(4)} of $${(over.limit / MICROS).toFixed(4)} spent; this request was estimated at $${est.toFixed(6)}.`,
        { status: 429, code: 'budget_exceeded' },
      );
    }
    if (opts.dryRun) return d;
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
      const delta = Math.ceil(actual * MICROS) - micros;
      if (delta !== 0) for (const it of items) void this.store.adjust(it.key, delta, it.expiresAt).catch(() => undefined);
    });
    return d;
  }
}
