/** What the gateway learns about one request as it passes through; the record of the request is built from it. */
import type { Principal } from './principal.js';
import type { Endpoint, Usage } from './types.js';
import type { RequestSpan } from './tracing.js';
import type { DecisionAudit } from './decision.js';
import type { ZoneLimit } from './zones.js';

export interface RequestContext {
  id: string;
  startedAt: number;
  endpoint: Endpoint;
  /** An inference path: the request is recorded and counted whatever happens, rejections included. */
  recorded?: boolean;
  /** Which protocol the client spoke: chat (the OpenAI endpoints), responses (/v1/responses) or messages (/v1/messages). */
  front?: 'chat' | 'responses' | 'messages';
  model: string;
  stream: boolean;
  principal: Principal;
  /** Rule and policy version that decided the route. */
  ruleId?: string;
  policyVersion?: string;
  tags?: readonly string[];
  /** Where the data classes may go, and how the decision was reached (records, audit, replay). */
  zoneLimits?: readonly ZoneLimit[];
  decisionAudit?: DecisionAudit;
  /** Every upstream called, in order (retries, fallbacks, both sides of a hedge): where the request's data went. */
  tried?: string[];
  /** Allowed destinations skipped because their breaker was open. */
  breakersOpen?: string[];
  /** hit | miss | bypass, once the cache has been consulted. */
  cache?: 'hit' | 'miss' | 'bypass';
  upstream?: string;
  upstreamModel?: string;
  /** On a cache hit: the destination (and its model name) that produced the cached answer. */
  cachedFrom?: { upstream: string; upstreamModel?: string };
  status: number;
  errorCode?: string;
  usage?: Usage;
  /** ms from arrival to the first byte of the answer (first SSE event for streams). */
  ttftMs?: number;
  totalMs?: number;
  attempts: number;
  /** Retries before the first byte, across destinations. */
  retries?: number;
  /** Whether a destination after the first was used. */
  fallbackUsed?: boolean;
  /** Whether a hedged second call was started. */
  hedged?: boolean;
  /** Edge-first cascade outcome and the edge answer's score. */
  cascade?: 'kept' | 'escalated';
  cascadeScore?: number;
  /** The share of the destination's price this request pays (a cloud Batch API line: the batch discount). */
  priceFactor?: number;
  /** Headers every response of this request carries (x-request-id, x-switchyard-*). */
  headers: Record<string, string>;
  /** Set when the budget store failed for this request: served unenforced (fail_open) or refused (fail_closed). */
  budgetFault?: 'fail_open' | 'fail_closed';
  /** The request's trace span, when tracing is on and the request sampled. */
  span?: RequestSpan<RequestContext>;
  /** Run once when the request has ended (e.g. reconciling estimates with actual usage). */
  finalizers?: Array<(ctx: RequestContext) => void>;
}
