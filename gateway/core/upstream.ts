/** The Upstream seam: a destination the gateway dispatches to (a cloud endpoint, the in-process edge runtime, a remote edge). */
import type { Endpoint, JsonObject, Usage, Zone } from './types.js';
import { isJsonObject } from './validate.js';
import type { CancelSignal } from './cancel.js';

export interface UpstreamCall {
  endpoint: Endpoint;
  /** The OpenAI request body with `model` already rewritten to the upstream's own name; unknown fields kept. */
  body: JsonObject;
  stream: boolean;
  /** Aborted when the client goes away or the gateway gives up; the upstream must stop work promptly. */
  signal: CancelSignal;
  requestId: string;
  /** Absolute time (ms since epoch) after which the answer is useless. */
  deadline?: number;
  /** W3C trace context of this attempt, sent as the `traceparent` header when tracing is on. */
  traceparent?: string;
}

export interface UpstreamJsonResult {
  kind: 'json';
  body: JsonObject;
  usage?: Usage;
}

/**
 * A stream of SSE `data:` payloads (JSON text, without the `[DONE]` sentinel). Iteration throws a GatewayError if the
 * stream fails part-way; returning early (break / return()) cancels the upstream request.
 */
export interface UpstreamStreamResult {
  kind: 'stream';
  events: AsyncIterable<string>;
}

export type UpstreamResult = UpstreamJsonResult | UpstreamStreamResult;

export interface UpstreamModel {
  /** Name clients use. */
  id: string;
  /** Name sent to the upstream. */
  upstreamModel: string;
  ownedBy: string;
}

export interface UpstreamLoad {
  /** Requests the gateway has in flight to this upstream. */
  inFlight: number;
  /** What the upstream itself reports, when it does (edge queue depth, vLLM waiting requests). */
  queueDepth?: number;
  kvFreeFraction?: number;
  /** Predicted wait before a new request starts (the edge runtime reports it). */
  queueWaitMs?: number;
}

export interface UpstreamStatus {
  state: 'loading' | 'ready' | 'failed';
  /** Why it failed, or what it chose at load (e.g. the edge's weight file and execution path). */
  reason?: string;
  /** The execution path an edge engine runs (paged, assembled, assembled-grouped). */
  path?: string;
}

/** Live numbers an upstream that runs its own engine reports (the edge): metrics, /health and routers read them. */
export interface UpstreamEngineStats {
  model: string;
  waiting: number;
  running: number;
  preempted: number;
  blocksUsed: number;
  blocksFree: number;
  blocksCachedFree: number;
  kvUsage: number;
  prefixHitRate: number;
  tokensPerSecond: number;
  predictedQueueWaitMs: number;
  totalGenerated: number;
  /** What the engine chose at load (weight file variant and execution path). */
  load?: { variant: string; path: string };
}

export interface Upstream {
  readonly id: string;
  readonly zone: Zone;
  readonly models: readonly UpstreamModel[];
  call(call: UpstreamCall): Promise<UpstreamResult>;
  /** Resolves true when the upstream can take traffic now. */
  ready(): Promise<boolean>;
  load(): UpstreamLoad;
  /** Upstreams that load something before serving (the edge) say where they are, and why they cannot serve. */
  status?(): UpstreamStatus;
  /** Only upstreams that run an engine (the edge) have these; absent elsewhere. */
  engineStats?(): UpstreamEngineStats | undefined;
  close(): Promise<void>;
}

/** Reads `usage` from a JSON body if it has a well-formed one. */
export function usageOf(body: JsonObject): Usage | undefined {
  const u = body['usage'];
  if (!isJsonObject(u)) return undefined;
  const p = u['prompt_tokens'];
  const c = u['completion_tokens'] ?? 0;
  const t = u['total_tokens'];
  if (typeof p !== 'number' || typeof c !== 'number') return undefined;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: typeof t === 'number' ? t : p + c };
}
