/**
 * Sends a request along the Decision's candidates: skips a destination whose breaker is open (its fallback is the
 * first choice, not a retry), retries connect errors, 429 and 5xx before the first byte with exponential backoff and
 * full jitter (honouring Retry-After) within the retry budget and the deadline, then falls back to the next candidate.
 * With `decision.hedge`, a second allowed destination is started when the first has not answered within its observed
 * p95 time to first byte; the first answer wins and the other call is cancelled. Never calls a cloud upstream for an
 * edge-only Decision.
 */
import { asGatewayError, GatewayError } from './errors.js';
import type { Decision, RouteCandidate } from './decision.js';
import type { RequestContext } from './request-context.js';
import type { Endpoint, JsonObject } from './types.js';
import type { UpstreamResult } from './upstream.js';
import { BreakerOpenError, type Breaker } from '../resilience/breaker.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { ResilienceConfig } from '../resilience/resilience-config.js';
import type { LatencyWindow } from '../resilience/latency-window.js';
import { onAbort } from './abort.js';
import { Cancel, type CancelSignal } from './cancel.js';
import { mayReach } from './zones.js';
import { noAllowedZoneError } from './zone-errors.js';

export interface Resilience {
  breaker(upstream: string): Breaker;
  budget: RetryBudget;
  config: ResilienceConfig;
  /** Observed time to first byte per upstream (for hedging). */
  firstByte(upstream: string): LatencyWindow;
}

export interface DispatchInput {
  endpoint: Endpoint;
  body: JsonObject;
  stream: boolean;
  signal: CancelSignal;
  decision: Decision;
  ctx: RequestContext;
  resilience: Resilience;
}

/** Upstream trouble (5xx, 429, timeouts, refused connections) counts against a breaker; client errors do not. */
const countsAgainstUpstream = (err: unknown) => err instanceof GatewayError && (err.status >= 500 || err.status === 429);

function sleep(ms: number, signal: CancelSignal): Promise<void> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unlink = onAbort(signal, () => {
      clearTimeout(timer);
      resolve();
    });
    timer = setTimeout(() => {
      unlink();
      resolve();
    }, ms);
  });
}

const circuitOpen = (id: string) =>
  new GatewayError(`Upstream '${id}' is unavailable (circuit open).`, { status: 503, code: 'upstream_circuit_open', upstream: id, retryable: true });

/** One destination with its retries. Throws the last error when it gives up. */
async function tryCandidate(input: DispatchInput, cand: RouteCandidate, signal: CancelSignal): Promise<UpstreamResult> {
  const { decision, ctx, resilience } = input;
  const cfg = resilience.config;
  const breaker = resilience.breaker(cand.upstream.id);
  for (let attempt = 0; ; attempt++) {
    ctx.attempts++;
    (ctx.tried ??= []).push(cand.upstream.id);
    ctx.upstream ??= cand.upstream.id;
    if (!ctx.hedged) ctx.upstream = cand.upstream.id;
    let retryToken = false;
    const started = Date.now();
    const span = ctx.span?.attempt({
      upstream: cand.upstream.id,
      upstreamModel: cand.upstreamModel,
      zone: cand.zone,
      attempt,
      kind: attempt > 0 ? 'retry' : ctx.attempts === 1 ? 'first' : ctx.hedged ? 'hedge' : 'fallback',
    });
    try {
      const r = await breaker.run(
        () =>
          cand.upstream.call({
            endpoint: input.endpoint,
            body: { ...input.body, model: cand.upstreamModel },
            stream: input.stream,
            signal,
            requestId: ctx.id,
            deadline: decision.deadline,
            traceparent: span?.traceparent,
          }),
        countsAgainstUpstream,
      );
      resilience.firstByte(cand.upstream.id).add(Date.now() - started);
      span?.end({});
      ctx.upstream = cand.upstream.id;
      ctx.upstreamModel = cand.upstreamModel;
      return r;
    } catch (err) {
      span?.end({ error: err });
      if (signal.aborted) throw err;
      if (err instanceof BreakerOpenError) throw circuitOpen(cand.upstream.id);
      const e = asGatewayError(err);
      if (!e.retryable) throw e;
      const delay = Math.max(e.retryAfterMs ?? 0, Math.random() * Math.min(cfg.backoff_max_ms, cfg.backoff_base_ms * 2 ** attempt));
      const deadline = decision.deadline;
      if (attempt >= cfg.retries || (breaker.state as string) === 'open' || (deadline !== undefined && Date.now() + delay >= deadline)) throw e;
      if (!resilience.budget.tryAcquire()) throw e;
      retryToken = true;
      ctx.retries = (ctx.retries ?? 0) + 1;
      await sleep(delay, signal);
    } finally {
      if (retryToken) resilience.budget.done();
    }
  }
}

/** Runs `first`, and `second` too if `first` has not answered after `afterMs`; the first success wins. */
async function hedged(input: DispatchInput, first: RouteCandidate, second: RouteCandidate, afterMs: number): Promise<UpstreamResult> {
  const a = new Cancel();
  const b = new Cancel();
  const unlink = onAbort(input.signal, (reason) => {
    a.abort(reason);
    b.abort(reason);
  });
  const settle = (p: Promise<UpstreamResult>, loser: Cancel) =>
    p.then((r) => {
      loser.abort(new Error('hedge lost'));
      return r;
    });
  const pa = settle(tryCandidate(input, first, a.signal), b);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pb = new Promise<UpstreamResult>((resolve, reject) => {
    timer = setTimeout(() => {
      input.ctx.hedged = true;
      settle(tryCandidate(input, second, b.signal), a).then(resolve, reject);
    }, afterMs);
    // If the first fails before the hedge fires, the second starts at once (ordinary fallback).
    pa.catch(() => {
      if (!input.ctx.hedged) {
        clearTimeout(timer);
        input.ctx.fallbackUsed = true;
        tryCandidate(input, second, b.signal).then(resolve, reject);
      } else if (b.signal.aborted) reject(new Error('hedge cancelled'));
    });
  });
  try {
    return await Promise.any([pa, pb]);
  } catch (err) {
    const errs = (err as AggregateError).errors ?? [err];
    throw asGatewayError(errs.find((e: unknown) => e instanceof GatewayError) ?? errs[0]);
  } finally {
    clearTimeout(timer);
    unlink();
  }
}

export async function dispatch(input: DispatchInput): Promise<UpstreamResult> {
  const { decision, ctx, resilience } = input;
  resilience.budget.request();
  // The privacy invariant, checked where the call is made: every call (retry, fallback, hedge) goes to a zone the
  // request's data classes may reach.
  const allowed = decision.candidates.filter(
    (c) => c.zone === c.upstream.zone && mayReach(decision.zoneLimits, c.upstream.zone) && (!decision.edgeOnly || c.upstream.zone === 'device'),
  );
  const usable = allowed.filter((c) => resilience.breaker(c.upstream.id).state !== 'open');
  if (usable.length < allowed.length) ctx.breakersOpen = allowed.filter((c) => !usable.includes(c)).map((c) => c.upstream.id);
  let last: GatewayError | undefined =
    usable.length < allowed.length ? circuitOpen(allowed.find((c) => !usable.includes(c))!.upstream.id) : undefined;
  for (let i = 0; i < usable.length; i++) {
    if (input.signal.aborted) break;
    // Budgets and caps are checked at each fallback's own price (the first candidate was admitted before dispatch).
    if (i > 0 && decision.admitFallback && !(await decision.admitFallback(usable[i]!))) continue;
    if (i > 0) ctx.fallbackUsed = true;
    try {
      if (decision.hedge && i + 1 < usable.length && (!decision.admitFallback || (await decision.admitFallback(usable[i + 1]!)))) {
        const p95 = resilience.firstByte(usable[i]!.upstream.id).p95();
        return await hedged(input, usable[i]!, usable[i + 1]!, Math.max(resilience.config.hedge_min_ms, p95 ?? resilience.config.hedge_default_ms));
      }
      return await tryCandidate(input, usable[i]!, input.signal);
    } catch (err) {
      if (input.signal.aborted) throw err;
      last = asGatewayError(err);
      if (!last.retryable) throw last;
      if (decision.hedge && i + 1 < usable.length) i++; // both hedged destinations were tried
    }
  }
  // A zone-limited request whose allowed destinations all failed fails closed, naming its data class.
  if (decision.zoneLimits?.length && (!last || last.retryable)) throw noAllowedZoneError(decision, ctx.model);
  throw last ?? new GatewayError('No upstream is available for this request.', { status: 503, code: 'no_upstream' });
}
