/**
 * RequestTracer on the OpenTelemetry SDK (Node): a SERVER span per inference request named and attributed after the
 * GenAI semantic conventions (`chat gpt-4o`, gen_ai.operation.name, gen_ai.request.model, gen_ai.response.model,
 * gen_ai.usage.input_tokens / output_tokens) plus the routing decision (switchyard.*), and a CLIENT span per upstream
 * attempt (first, retry, fallback, hedge) whose context is sent upstream as `traceparent`. Spans are exported in
 * batches over OTLP/HTTP. Contexts are passed explicitly: no global registration, no async-hooks context manager.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { asGatewayError } from '../core/errors.js';
import type { RequestContext } from '../core/request-context.js';
import type { AttemptKind, AttemptSpan, RequestSpan, RequestTracer } from '../core/tracing.js';
import type { Endpoint } from '../core/types.js';
import { tracesUrl, type TracingConfig } from './tracing-config.js';

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  get: (h: Headers, key: string) => h.get(key) ?? undefined,
  keys: (h: Headers) => [...h.keys()],
};

/** gen_ai.operation.name per endpoint (GenAI semconv well-known values). */
const OPERATION: Record<Endpoint, string> = { 'chat.completions': 'chat', completions: 'text_completion', embeddings: 'embeddings' };

export class OtelRequestTracer implements RequestTracer<RequestContext> {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;

  constructor(config: TracingConfig) {
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.service_name }),
      // A client's `traceparent` with the sampled flag must not lift sample_ratio (any caller could make every request
      // export a trace): a remote parent is sampled by the same ratio of its trace id. Local parents are followed.
      sampler: new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(config.sample_ratio),
        remoteParentSampled: new TraceIdRatioBasedSampler(config.sample_ratio),
      }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(config.otlp_endpoint) }), { scheduledDelayMillis: config.export_interval_ms }),
      ],
    });
    this.tracer = this.provider.getTracer('switchyard');
  }

  start(ctx: RequestContext, headers: Headers): RequestSpan<RequestContext> | undefined {
    const parent = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
    const operation = OPERATION[ctx.endpoint];
    const span = this.tracer.startSpan(
      `${operation} ${ctx.model}`,
      {
        kind: SpanKind.SERVER,
        startTime: ctx.startedAt,
        attributes: { 'gen_ai.operation.name': operation, 'gen_ai.request.model': ctx.model, 'switchyard.request_id': ctx.id },
      },
      parent,
    );
    // Not sampled: no span object is kept per request, and no attempt spans either.
    return span.isRecording() ? new OtelRequestSpan(this.tracer, span, operation) : undefined;
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

class OtelRequestSpan implements RequestSpan<RequestContext> {
  private readonly context: Context;
  /** The zone of the attempt that answered, for the request span. */
  private zone: string | undefined;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly operation: string,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  attempt(info: { upstream: string; upstreamModel: string; zone: string; attempt: number; kind: AttemptKind }): AttemptSpan {
    const span = this.tracer.startSpan(
      `${this.operation} ${info.upstreamModel}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': this.operation,
          'gen_ai.request.model': info.upstreamModel,
          'switchyard.upstream': info.upstream,
          'switchyard.zone': info.zone,
          'switchyard.attempt': info.attempt,
          'switchyard.attempt.kind': info.kind,
        },
      },
      this.context,
    );
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, k, v) => (c[k] = v) });
    return {
      traceparent: carrier['traceparent'],
      end: ({ error }) => {
        if (error === undefined) this.zone = info.zone;
        else {
          const e = asGatewayError(error);
          span.setAttributes({ 'error.type': e.code, 'http.response.status_code': e.status });
          span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
        }
        span.end();
      },
    };
  }

  end(ctx: RequestContext): void {
    const a: Attributes = {
      'http.response.status_code': ctx.status,
      'switchyard.stream': ctx.stream,
      'switchyard.attempts': ctx.attempts,
    };
    if (ctx.upstreamModel) a['gen_ai.response.model'] = ctx.upstreamModel;
    else if (ctx.cachedFrom?.upstreamModel) a['gen_ai.response.model'] = ctx.cachedFrom.upstreamModel;
    if (ctx.usage) {
      a['gen_ai.usage.input_tokens'] = ctx.usage.prompt_tokens;
      if (typeof ctx.usage.completion_tokens === 'number') a['gen_ai.usage.output_tokens'] = ctx.usage.completion_tokens;
    }
    if (ctx.policyVersion) a['switchyard.policy.version'] = ctx.policyVersion;
    if (ctx.ruleId) a['switchyard.rule'] = ctx.ruleId;
    if (ctx.tags) a['switchyard.data_classes'] = [...ctx.tags];
    if (this.zone) a['switchyard.zone'] = this.zone;
    if (ctx.cache) a['switchyard.cache'] = ctx.cache;
    if (ctx.upstream) a['switchyard.upstream'] = ctx.upstream;
    if (ctx.fallbackUsed) a['switchyard.fallback'] = true;
    if (ctx.hedged) a['switchyard.hedged'] = true;
    if (ctx.retries) a['switchyard.retries'] = ctx.retries;
    if (ctx.ttftMs !== undefined) a['switchyard.ttft_ms'] = ctx.ttftMs;
    if (ctx.errorCode) a['error.type'] = ctx.errorCode;
    this.span.setAttributes(a);
    if (ctx.status >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.errorCode });
    this.span.end();
  }
}
