/**
 * Sends a request along the Decision's candidates: skips a destination whose breaker is open (its fallback is the
 * first choice, not a retry), retries connect errors, 429 and 5xx before the first byte with exponential backoff and
 * full jitter (honouring Retry-After) within the retry budget and the deadline, then falls back to the next candidate.
 * Never calls a cloud upstream for an edge-only Decision.
 */
import { asGatewayError, GatewayError } from './errors.js';
import type { Decision } from './decision.js';
import type { RequestContext } from './request-context.js';
import type { Endpoint, JsonObject } from './types.js';
import type { UpstreamResult } from '../upstreams/upstream.js';
import { BreakerOpenError, type Breaker } from '../resilience/breaker.js';
import type { RetryBudget } from '../resilience/retry-budget.js';
import type { ResilienceConfig } from '../resilience/resilience-config.js';

export interface Resilience {
  breaker(upstream: string): Breaker;
  budget: RetryBudget;
  config: ResilienceConfig;
}

export interface DispatchInput {
  endpoint: Endpoint;
  body: JsonObject;
  stream: boolean;
  signal: AbortSignal;
  decision: Decision;
  ctx: RequestContext;
  resilience: Resilience;
}

/** Upstream trouble (5xx, 429, timeouts, refused connections) counts against a breaker; client errors do not. */
const countsAgainstUpstream = (err: unknown) => err instanceof GatewayError && (err.status >= 500 || err.status === 429);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export async function dispatch(input: DispatchInput): Promise<UpstreamResult> {
  const { decision, ctx, resilience } = input;
  const cfg = resilience.config;
  resilience.budget.request();
  let last: GatewayError | undefined;
  let tried = 0;
  for (const cand of decision.candidates) {
    if (input.signal.aborted) break;
    // The privacy invariant, checked where the call is made: an edge-only request never reaches a cloud upstream.
    if (decision.edgeOnly && (cand.zone !== 'edge' || cand.upstream.zone !== 'edge')) continue;
    const breaker = resilience.breaker(cand.upstream.id);
    if (breaker.state === 'open') {
      last ??= new GatewayError(`Upstream '${cand.upstream.id}' is unavailable (circuit open).`, { status: 503, code: 'upstream_circuit_open', upstream: cand.upstream.id, retryable: true });
      continue;
    }
    if (tried++ > 0) ctx.fallbackUsed = true;
    for (let attempt = 0; ; attempt++) {
      ctx.attempts++;
      ctx.upstream = cand.upstream.id;
      ctx.upstreamModel = cand.upstreamModel;
      let retryToken = false;
      try {
        return await breaker.run(
          () => cand.upstream.call({ endpoint: input.endpoint, body: { ...input.body, model: cand.upstreamModel }, stream: input.stream, signal: input.signal, requestId: ctx.id, deadline: decision.deadline }),
          countsAgainstUpstream,
        );
      } catch (err) {
        if (input.signal.aborted) throw err;
        if (err instanceof BreakerOpenError) {
          last = new GatewayError(`Upstream '${cand.upstream.id}' is unavailable (circuit open).`, { status: 503, code: 'upstream_circuit_open', upstream: cand.upstream.id, retryable: true });
          break;
        }
        last = asGatewayError(err);
        if (!last.retryable) throw last;
        const delay = Math.max(last.retryAfterMs ?? 0, Math.random() * Math.min(cfg.backoff_max_ms, cfg.backoff_base_ms * 2 ** attempt));
        const deadline = decision.deadline;
        if (attempt >= cfg.retries || (breaker.state as string) === 'open' || (deadline !== undefined && Date.now() + delay >= deadline)) break;
        if (!resilience.budget.tryAcquire()) break;
        retryToken = true;
        ctx.retries = (ctx.retries ?? 0) + 1;
        await sleep(delay, input.signal);
      } finally {
        if (retryToken) resilience.budget.done();
      }
    }
  }
  throw last ?? new GatewayError('No upstream is available for this request.', { status: 503, code: 'no_upstream' });
}
