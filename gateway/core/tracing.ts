/**
 * The tracing seam: one span per inference request and one per upstream attempt. Off unless the entry wires a
 * RequestTracer (Node does, from `tracing:` in config, loading OpenTelemetry only then); every hook is `?.` on an
 * absent span, so tracing costs nothing when off. Generic in the request context (RequestContext) only so that
 * request-context.ts can hold a span without an import cycle.
 */
export type AttemptKind = 'first' | 'retry' | 'fallback' | 'hedge';

export interface AttemptSpan {
  /** W3C `traceparent` naming this attempt, sent to the upstream. */
  readonly traceparent?: string;
  end(outcome: { error?: unknown }): void;
}

export interface RequestSpan<Ctx> {
  attempt(info: { upstream: string; upstreamModel: string; zone: string; attempt: number; kind: AttemptKind }): AttemptSpan;
  /** Ends the request span with what the request context says (model, usage, decision, cache, status). */
  end(ctx: Ctx): void;
}

export interface RequestTracer<Ctx> {
  /** A span for the request, child of the client's `traceparent` if it sent one; undefined when not sampled. */
  start(ctx: Ctx, headers: Headers): RequestSpan<Ctx> | undefined;
  shutdown(): Promise<void>;
}
