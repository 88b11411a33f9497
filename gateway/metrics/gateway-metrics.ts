/** Prometheus metrics for the gateway (prom-client, Node side): requests, errors, latency, TTFT, cache, edge gauges. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestContext } from '../core/request-context.js';
import type { Upstream } from '../core/upstream.js';
import { ERROR_CODES } from '../core/errors.js';
import { registerEdgeGauges } from './edge-gauges.js';
import { BoundedLabel, statusLabel } from './metric-labels.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter;
  private readonly errors: Counter;
  private readonly latency: Histogram;
  private readonly ttft: Histogram;
  private readonly tokens: Counter;
  private readonly cache: Counter;
  /** Label vocabularies: configured names only, everything else `other` (a client cannot mint series). */
  private readonly modelLabel: BoundedLabel;
  private readonly destinationLabel: BoundedLabel;
  private readonly codeLabel = new BoundedLabel(Object.keys(ERROR_CODES));
  private readonly cacheLabel = new BoundedLabel(['hit', 'miss', 'bypass']);
  private readonly budgetFaults: Counter;

  constructor(
    upstreams: readonly Upstream[],
    extra: {
      recordsDropped?: () => number;
      breakerStates?: () => Array<{ upstream: string; state: string }>;
      /** Model names configured outside the upstreams (e.g. prices), also allowed as labels. */
      models?: Iterable<string>;
    } = {},
  ) {
    const r = [this.registry];
    this.modelLabel = new BoundedLabel(
      upstreams.flatMap((u) => u.models.map((m) => m.id)),
      extra.models ?? [],
      ['none'],
    );
    this.destinationLabel = new BoundedLabel(
      upstreams.map((u) => u.id),
      ['none'],
    );
    // prom-client's default metric names already start with process_/nodejs_: the prefix is only ours.
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
    this.requests = new Counter({
      name: 'switchyard_requests_total',
      help: 'Requests by destination, model and status',
      labelNames: ['destination', 'model', 'status'],
      registers: r,
    });
    this.errors = new Counter({
      name: 'switchyard_errors_total',
      help: 'Failed requests by destination, model and error code',
      labelNames: ['destination', 'model', 'code'],
      registers: r,
    });
    const buckets = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];
    this.latency = new Histogram({
      name: 'switchyard_request_duration_ms',
      help: 'Total request latency',
      labelNames: ['destination', 'model'],
      buckets,
      registers: r,
    });
    this.ttft = new Histogram({
      name: 'switchyard_time_to_first_token_ms',
      help: 'Time to first token (first byte for JSON)',
      labelNames: ['destination', 'model'],
      buckets,
      registers: r,
    });
    this.tokens = new Counter({
      name: 'switchyard_tokens_total',
      help: 'Tokens by direction',
      labelNames: ['destination', 'model', 'direction'],
      registers: r,
    });
    this.cache = new Counter({ name: 'switchyard_cache_total', help: 'Result cache outcomes', labelNames: ['outcome'], registers: r });
    this.budgetFaults = new Counter({
      name: 'switchyard_budget_store_faults_total',
      help: 'Requests whose spend budget could not be checked (store down): served unenforced (fail_open) or refused (fail_closed)',
      labelNames: ['mode'],
      registers: r,
    });
    registerEdgeGauges(this.registry, upstreams);
    new Gauge({
      name: 'switchyard_upstream_in_flight',
      help: 'Requests in flight per upstream',
      labelNames: ['upstream'],
      registers: r,
      collect() {
        for (const u of upstreams) this.set({ upstream: u.id }, u.load().inFlight);
      },
    });
    if (extra.breakerStates) {
      const read = extra.breakerStates;
      const code: Record<string, number> = { closed: 0, 'half-open': 1, open: 2 };
      new Gauge({
        name: 'switchyard_breaker_state',
        help: 'Circuit breaker per upstream: 0 closed, 1 half-open, 2 open',
        labelNames: ['upstream'],
        registers: r,
        collect() {
          for (const b of read()) this.set({ upstream: b.upstream }, code[b.state] ?? -1);
        },
      });
    }
    if (extra.recordsDropped) {
      const read = extra.recordsDropped;
      new Gauge({
        name: 'switchyard_records_dropped',
        help: 'Records dropped because the sink fell behind',
        registers: r,
        collect() {
          this.set(read());
        },
      });
    }
  }

  observe(ctx: RequestContext): void {
    const labels = { destination: this.destinationLabel.of(ctx.upstream ?? 'none'), model: this.modelLabel.of(ctx.model || 'none') };
    this.requests.inc({ ...labels, status: statusLabel(ctx.status) });
    if (ctx.status >= 400 || ctx.errorCode)
      this.errors.inc({ ...labels, code: ctx.errorCode ? this.codeLabel.of(ctx.errorCode) : statusLabel(ctx.status) });
    if (ctx.totalMs !== undefined) this.latency.observe(labels, ctx.totalMs);
    if (ctx.ttftMs !== undefined) this.ttft.observe(labels, ctx.ttftMs);
    if (ctx.usage) {
      this.tokens.inc({ ...labels, direction: 'prompt' }, ctx.usage.prompt_tokens);
      this.tokens.inc({ ...labels, direction: 'completion' }, ctx.usage.completion_tokens);
    }
    if (ctx.cache) this.cache.inc({ outcome: this.cacheLabel.of(ctx.cache) });
    if (ctx.budgetFault) this.budgetFaults.inc({ mode: ctx.budgetFault });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
