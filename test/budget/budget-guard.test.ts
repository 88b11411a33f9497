/**
 * The budget guard's fault handling in-process, on a store that fails on demand: an outage is logged once when it
 * starts and once when it ends (not per request), fail_open serves and still charges the actual cost once the store
 * is back, fail_closed answers 503 budget_unavailable and releases what it may have held.
 */
import { describe, expect, it } from 'vitest';
import { BudgetGuard } from '../../gateway/budget/budget-guard.js';
import type { CounterStore } from '../../gateway/counters/counter-store.js';
import { MemoryCounterStore } from '../../gateway/counters/memory-counter-store.js';
import type { Decision } from '../../gateway/core/decision.js';
import { GatewayError } from '../../gateway/core/errors.js';
import { inferenceRequestFromBody } from '../../gateway/core/inference-request.js';
import { silentLogger, type Logger } from '../../gateway/core/logger.js';
import { ANONYMOUS } from '../../gateway/core/principal.js';
import type { RequestContext } from '../../gateway/core/request-context.js';
import type { Upstream } from '../../gateway/core/upstream.js';
import { waitUntil } from '../helpers/wait.js';

/** A memory store whose held calls throw while `down` is set (as a timed-out Redis command does). */
class FlakyStore extends MemoryCounterStore {
  down = false;
  override async reserveHeld(...a: Parameters<CounterStore['reserveHeld']>) {
    if (this.down) throw new Error('Command timed out');
    return super.reserveHeld(...a);
  }
  override async settle(...a: Parameters<CounterStore['settle']>) {
    if (this.down) throw new Error('Command timed out');
    return super.settle(...a);
  }
}

function capturingLogger(): { logger: Logger; lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (a: unknown, b?: unknown) => void lines.push([level, typeof a === 'string' ? a : String(b)]);
  return { logger: { ...silentLogger, warn: at('warn'), info: at('info'), error: at('error') }, lines };
}

const PRICES = { models: { m: { input_per_m: 1_000_000, output_per_m: 1_000_000 } }, edge_per_m: 0 };
const cloud = { id: 'cloud', zone: 'cloud' } as unknown as Upstream;
const decision: Decision = {
  candidates: [{ upstream: cloud, upstreamModel: 'm', zone: 'cloud' }],
  edgeOnly: false,
  tags: [],
  ruleId: 'r',
  policyVersion: 'v',
  cache: { enabled: false, ttlSeconds: 0 },
  cost: {
    onRequestCap: 'reject',
    downgrade: [],
    budgets: [{ id: 'b', counter: 'budget:b:k', dayUsd: 1000 }],
    onBudget: 'reject',
    budgetDowngrade: [],
  },
  trace: [],
};
const request = inferenceRequestFromBody({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
let n = 0;
const newCtx = (): RequestContext => ({
  id: `req-${n++}`,
  startedAt: Date.now(),
  endpoint: 'chat.completions',
  model: 'm',
  stream: false,
  principal: ANONYMOUS,
  status: 200,
  attempts: 0,
  headers: {},
});
const day = () => `budget:b:k:day:${new Date().toISOString().slice(0, 10)}`;
const finish = (ctx: RequestContext, usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }) => {
  ctx.usage = usage;
  ctx.upstream = 'cloud';
  for (const f of ctx.finalizers ?? []) f(ctx);
};

describe('budget guard under store faults', () => {
  it('fail_open: serves during the outage, logs it once each way, and charges the actual cost when the store is back', async () => {
    const store = new FlakyStore();
    const { logger, lines } = capturingLogger();
    const guard = new BudgetGuard(store, PRICES, { on_store_error: 'fail_open', settle_attempts: 20 }, logger);
    store.down = true;
    const ctxs = Array.from({ length: 10 }, newCtx);
    for (const ctx of ctxs) {
      await guard.apply(decision, ctx, request);
      expect(ctx.budgetFault).toBe('fail_open');
    }
    for (const ctx of ctxs) finish(ctx); // settles fail too and are retried in the background
    store.down = false;
    // Each request's actual cost: 5 tokens at $1/token = $5 = 5,000,000 micro-dollars.
    await waitUntil(async () => (await store.get([day()]))[0] === 10 * 5_000_000, { timeoutMs: 20_000, intervalMs: 20 });
    expect(lines.filter(([l]) => l === 'warn')).toHaveLength(1);
    expect(lines.filter(([l, m]) => l === 'info' && /recovered/.test(m))).toHaveLength(1);
  });

  it('fail_closed: 503 budget_unavailable with Retry-After, and nothing stays held', async () => {
    const store = new FlakyStore();
    const guard = new BudgetGuard(store, PRICES, { on_store_error: 'fail_closed', retry_after_s: 3, settle_attempts: 20 });
    store.down = true;
    const ctx = newCtx();
    const err = await guard.apply(decision, ctx, request).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GatewayError);
    expect(err).toMatchObject({ status: 503, code: 'budget_unavailable', headers: { 'retry-after': '3' } });
    expect(ctx.budgetFault).toBe('fail_closed');
    store.down = false;
    const ok = newCtx();
    await guard.apply(decision, ok, request);
    finish(ok);
    await waitUntil(async () => (await store.get([day()]))[0] === 5_000_000, { timeoutMs: 20_000, intervalMs: 20 });
    expect(store.sizes.holds).toBe(0);
  });
});
