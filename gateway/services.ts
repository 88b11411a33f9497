/** The gateway's services: built once per app from config + platform deps; routes receive them, never the app. */
import type { GatewayConfig } from './config/schema.js';
import { silentLogger, type Logger } from './core/logger.js';
import { ModelCatalog } from './core/model-catalog.js';
import type { RequestContext } from './core/request-context.js';
import type { Upstream } from './core/upstream.js';
import type { Router } from './core/decision.js';
import type { Resilience } from './core/dispatch.js';
import { CatalogRouter } from './routing/catalog-router.js';
import type { CounterStore } from './counters/counter-store.js';
import { MemoryCounterStore } from './counters/memory-counter-store.js';
import { Authenticator } from './auth/authenticator.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { BudgetGuard } from './budget/budget-guard.js';
import type { Breaker, BreakerFactory } from './resilience/breaker.js';
import { ClockBreaker } from './resilience/clock-breaker.js';
import { RetryBudget } from './resilience/retry-budget.js';
import { LiveStats } from './resilience/live-stats.js';
import type { CacheStore } from './cache/cache-store.js';
import { MemoryCache } from './cache/memory-cache.js';
import { SingleFlight } from './cache/single-flight.js';
import { SharedStreams } from './cache/shared-stream.js';
import { SemanticCache } from './semantic-cache/semantic-cache.js';
import type { PolicyStatus } from './policy/policy-router.js';
import type { PolicyAdmin } from './replay/policy-gate.js';
import type { Report } from './report/report.js';
import type { Principal } from './core/principal.js';
import type { BatchService } from './batch/batch-service.js';
import { SessionMasks } from './masking/session-masks.js';
import type { RequestTracer } from './core/tracing.js';
import type { ClientGoneHook } from './core/client-gone.js';

/** What /metrics and /dashboard read; the Node entry wires it (absent: those paths are 404). */
export interface OperatorDeps {
  metricsText?: () => Promise<string>;
  /** Builds the report for the last `windowMs`. */
  report?: (windowMs: number) => Promise<Report>;
  chartJs?: string;
}

export interface GatewayDeps {
  upstreams: readonly Upstream[];
  logger?: Logger;
  /** Called once per request when its answer (or stream) has ended; records and metrics hang here. */
  onComplete?: (ctx: RequestContext) => void;
  /** Extra readiness beyond the upstreams' own (e.g. the edge model still loading). */
  ready?: () => boolean | Promise<boolean>;
  /** Decides where each request goes; without one, every upstream serving the model in configuration order. */
  router?: Router;
  /** Shared counters for rate limits and budgets; in memory when absent. */
  counters?: CounterStore;
  /** Metrics text and report data for /metrics and /dashboard (Node wires them; absent = 404). */
  operator?: OperatorDeps;
  /** The Batch API (files, batches, runner); absent = /v1/files and /v1/batches are 404. */
  batch?: BatchService;
  /** The policy file's status for GET /admin/policies (absent: no policy file configured). */
  policyStatus?: () => PolicyStatus;
  /** Replay before activation and forced activation (POST /admin/policies/replay|activate); absent = 404. */
  policyAdmin?: PolicyAdmin;
  /** Breakers per upstream: opossum on Node; a clock-checked breaker (no timers) by default. */
  breakerFactory?: BreakerFactory;
  /** Live per-upstream numbers shared with the router (first-byte latency); created here when absent. */
  live?: LiveStats;
  /** The result cache store; an in-memory LRU by default, none when `cache.backend: off`. */
  cache?: CacheStore;
  /** Traces (OpenTelemetry on Node when `tracing:` is configured); absent = off. */
  tracer?: RequestTracer<RequestContext>;
}

export interface GatewayEnv {
  Variables: { ctx: RequestContext };
  /**
   * Per-call bindings from the entry. `internalPrincipal` is set only by in-process callers (the batch runner), never
   * from HTTP: the Node entry passes the socket objects here, the Worker its deploy-time bindings.
   */
  // onClientGone: set by the Node entry from the socket (reading Request.signal made @hono/node-server build an
  // AbortController per request); absent elsewhere, where the Request's own signal says it (core/client-gone.ts).
  Bindings: ClientGoneHook & { internalPrincipal?: Principal };
}

export interface GatewayServices {
  config: GatewayConfig;
  catalog: ModelCatalog;
  router: Router;
  auth: Authenticator;
  rateLimiter: RateLimiter;
  budgets: BudgetGuard;
  resilience: Resilience;
  cache: CacheStore | undefined;
  /** Vector lookups over the cache's answers, for rules with `cache.semantic` (needs the cache). */
  semanticCache: SemanticCache | undefined;
  flights: SingleFlight;
  streams: SharedStreams;
  /** Reversible masking's per-session placeholder tables (encrypted, expiring). */
  masking: SessionMasks;
  logger: Logger;
  deps: GatewayDeps;
  /** Marks the request finished (once) and hands it to onComplete. */
  complete(ctx: RequestContext): void;
}

export function buildServices(config: GatewayConfig, deps: GatewayDeps): GatewayServices {
  const logger = deps.logger ?? silentLogger;
  const completed = new WeakSet<RequestContext>();
  const catalog = new ModelCatalog(deps.upstreams);
  const counters = deps.counters ?? new MemoryCounterStore();
  const breakers = new Map<string, Breaker>();
  const live = deps.live ?? new LiveStats();
  const makeBreaker: BreakerFactory = deps.breakerFactory ?? ((id) => new ClockBreaker(id, config.resilience.breaker));
  const resilience: Resilience = {
    config: config.resilience,
    budget: new RetryBudget(config.resilience.retry_budget_ratio, config.resilience.retry_min_concurrency),
    breaker(id) {
      let b = breakers.get(id);
      if (!b) breakers.set(id, (b = makeBreaker(id)));
      return b;
    },
    firstByte: (id) => live.firstByte(id),
  };
  const cache = config.cache.backend === 'off' ? undefined : (deps.cache ?? new MemoryCache(config.cache.max_entries, config.cache.max_bytes));
  const services: GatewayServices = {
    config,
    catalog,
    router: deps.router ?? new CatalogRouter(catalog, config.resilience.hedge),
    auth: new Authenticator(config.keys),
    rateLimiter: new RateLimiter(counters, config.tenants, logger),
    budgets: new BudgetGuard(counters, config.prices, config.budgets, logger),
    resilience,
    cache,
    semanticCache: cache ? new SemanticCache(catalog, cache, config.cache.semantic_max_entries, logger) : undefined,
    flights: new SingleFlight(),
    streams: new SharedStreams(),
    masking: new SessionMasks(config.masking),
    logger,
    deps,
    complete(ctx) {
      if (completed.has(ctx)) return;
      completed.add(ctx);
      ctx.totalMs = Date.now() - ctx.startedAt;
      // Feed the live per-token estimate the policy's latency budgets use.
      const out = ctx.usage?.completion_tokens ?? 0;
      if (ctx.upstream && ctx.status < 400 && ctx.ttftMs !== undefined && ctx.stream && out > 1) {
        live.perToken(ctx.upstream).add((ctx.totalMs - ctx.ttftMs) / (out - 1));
      }
      ctx.span?.end(ctx);
      for (const f of ctx.finalizers ?? []) {
        try {
          f(ctx);
        } catch (err) {
          logger.error({ reqId: ctx.id, err: String(err) }, 'request finalizer failed');
        }
      }
      // No child logger per request: pino's child() costs more than the log line it would carry.
      const fields = {
        reqId: ctx.id,
        status: ctx.status,
        model: ctx.model,
        upstream: ctx.upstream,
        ms: ctx.totalMs,
        ttftMs: ctx.ttftMs,
        usage: ctx.usage,
        code: ctx.errorCode,
      };
      if (ctx.status >= 500) logger.warn(fields, 'request failed');
      else logger.info(fields, 'request done');
      try {
        deps.onComplete?.(ctx);
      } catch (err) {
        logger.error({ reqId: ctx.id, err: String(err) }, 'onComplete hook failed');
      }
    },
  };
  return services;
}
