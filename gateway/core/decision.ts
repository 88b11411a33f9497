/** The routing seam: a Router turns a request into a Decision; everything after obeys the Decision and never re-reads policy. */
import type { Principal } from './principal.js';
import type { JsonObject, Zone } from './types.js';
import type { InferenceRequest } from './inference-request.js';
import type { Upstream, UpstreamLoad } from './upstream.js';
import type { ZoneLimit } from './zones.js';

export interface RouteCandidate {
  upstream: Upstream;
  /** Name the upstream knows the model by. */
  upstreamModel: string;
  zone: Zone;
}

export interface RouteInput {
  request: InferenceRequest;
  headers: Headers;
  principal: Principal;
  /** Explain: decide without side effects (no session taint written). */
  dryRun?: boolean;
}

export interface CacheRule {
  /** Whether this request may be answered from / stored in the result cache. */
  enabled: boolean;
  ttlSeconds: number;
  /** Semantic lookup (gateway/semantic-cache): a near-identical earlier request's answer, by edge embeddings. */
  semantic?: SemanticCacheRule;
}

export interface SemanticCacheRule {
  /** Cosine similarity at or above which a cached answer is reused. */
  threshold: number;
  /** An edge embedding model: prompts never leave the host for the lookup. */
  embeddingModel: string;
  /** Tagged (sensitive) requests take part only when the rule says so. */
  tagged: boolean;
}

export interface Decision {
  /** Candidates in order of preference, already filtered by privacy: nothing outside them may be called. */
  candidates: readonly RouteCandidate[];
  /** True when the data may not leave the device; dispatch re-checks every candidate against it. */
  edgeOnly: boolean;
  /**
   * Where the request's data classes may go (core/zones.ts `mayReach`); absent = anywhere. Dispatch (retries,
   * fallbacks, hedges), the cascade, batch lines and the cache check every call against it; nothing widens it.
   */
  zoneLimits?: readonly ZoneLimit[];
  /** How the decision was reached, for records, audit and replay. */
  audit?: DecisionAudit;
  tags: readonly string[];
  /** Rule that decided, for the x-switchyard-policy header and records. */
  ruleId: string;
  policyVersion: string;
  cache: CacheRule;
  /** Absolute deadline (ms since epoch) from a latency budget, if any. */
  deadline?: number;
  /** Start a second allowed destination if the first is slow to answer (never across the privacy boundary). */
  hedge?: boolean;
  /** Cost rules the budget guard applies after the decision (caps, budgets, downgrades). */
  cost?: CostRules;
  /** The request body to send (e.g. redacted); defaults to the validated body. */
  body?: JsonObject;
  /** Reversible redaction: mask -> original, put back into the answer inside the gateway only. */
  unmask?: ReadonlyMap<string, string>;
  /** Edge-first cascade: answer on `first`, score, escalate to `escalate` below the threshold (both privacy-filtered). */
  cascade?: CascadePlan;
  trace: readonly string[];
  /**
   * Checked by dispatch before each fallback candidate (not the first, which the budget guard already admitted):
   * false skips it (over a cap or budget at its own price, or a paid destination under `no_paid_fallback`).
   */
  admitFallback?: (candidate: RouteCandidate) => Promise<boolean>;
}

export interface CascadePlan {
  first: readonly RouteCandidate[];
  escalate: readonly RouteCandidate[];
  check: 'logprob' | 'self_check';
  threshold: number;
}

export interface CostRules {
  maxRequestUsd?: number;
  onRequestCap: 'downgrade' | 'reject';
  /** Candidates to use instead when downgraded (already privacy-filtered). */
  downgrade: readonly RouteCandidate[];
  /** Budgets that apply to this request: counter name and limits in USD. */
  budgets: ReadonlyArray<{ id: string; counter: string; dayUsd?: number; monthUsd?: number }>;
  onBudget: 'downgrade' | 'reject';
  budgetDowngrade: readonly RouteCandidate[];
  /** A fallback may not go to a destination that costs money (rule `cost.no_paid_fallback`). */
  noPaidFallback?: boolean;
}

export interface Router {
  decide(input: RouteInput): Decision | Promise<Decision>;
}

/** The live numbers a decision read (and only those), so a replay can decide again on the same inputs. */
export interface LiveSnapshot {
  /** Observed first-byte p95 per upstream (null: not enough samples). */
  firstByteP95: Record<string, number | null>;
  /** Predicted total ms per upstream for this request's output tokens (null: not enough samples). */
  predictedTotalMs: Record<string, number | null>;
  /** Load each upstream reported when it was read (pools, overflow). */
  load: Record<string, UpstreamLoad>;
}

/** Why the request carries its data classes, and what the decision read. */
export interface DecisionAudit {
  /** Detectors that found something, with the version (a hash of their pattern) that ran. */
  detectors: ReadonlyArray<{ id: string; version: string }>;
  /** Classes assumed because a detector failed or ran over its time budget (fail closed). */
  failedClosed: readonly string[];
  /** Classes carried from earlier turns of the same session (taint). */
  tainted: readonly string[];
  /** Candidates the router chose, in order, before budgets. */
  route: readonly string[];
  /** What rules matched on, without content: size, output tokens, temperature, the metadata fields and headers rules name. */
  inputs: DecisionInputs;
  live: LiveSnapshot;
}

export interface DecisionInputs {
  bytes: number;
  output_tokens: number;
  temperature: number | null;
  metadata: Record<string, string>;
  headers: Record<string, string>;
}
