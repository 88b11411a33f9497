/** Sends a request to its candidates in order, moving on only when a failure happened before the first byte. */
import { asGatewayError, GatewayError } from './errors.js';
import type { Decision } from './decision.js';
import type { RequestContext } from './request-context.js';
import type { Endpoint, JsonObject } from './types.js';
import type { UpstreamResult } from '../upstreams/upstream.js';

export interface DispatchInput {
  endpoint: Endpoint;
  body: JsonObject;
  stream: boolean;
  signal: AbortSignal;
  decision: Decision;
  ctx: RequestContext;
}

export async function dispatch(input: DispatchInput): Promise<UpstreamResult> {
  let last: GatewayError | undefined;
  for (const cand of input.decision.candidates) {
    if (input.signal.aborted) break;
    // The privacy invariant, checked where the call is made: an edge-only request never reaches a cloud upstream.
    if (input.decision.edgeOnly && (cand.zone !== 'edge' || cand.upstream.zone !== 'edge')) continue;
    input.ctx.attempts++;
    input.ctx.upstream = cand.upstream.id;
    input.ctx.upstreamModel = cand.upstreamModel;
    try {
      return await cand.upstream.call({
        endpoint: input.endpoint,
        body: { ...input.body, model: cand.upstreamModel },
        stream: input.stream,
        signal: input.signal,
        requestId: input.ctx.id,
        deadline: input.decision.deadline,
      });
    } catch (err) {
      if (input.signal.aborted) throw err;
      last = asGatewayError(err);
      if (!last.retryable) throw last;
    }
  }
  throw last ?? new GatewayError('No upstream is available for this request.', { status: 503, code: 'no_upstream' });
}
