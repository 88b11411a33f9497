/** createGateway(): the Web-standard Hono app at the heart of Switchyard (no Node-only imports here). */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { Context } from 'hono';
import type { GatewayConfig } from '../config/schema.js';
import { asGatewayError, errors, GatewayError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { ModelCatalog } from './model-catalog.js';
import type { RequestContext } from './request-context.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { Router } from './decision.js';
import { ANONYMOUS } from './principal.js';
import { CatalogRouter } from '../routing/catalog-router.js';
import type { CounterStore } from '../counters/counter-store.js';
import { MemoryCounterStore } from '../counters/memory-counter-store.js';
import { Authenticator } from '../auth/authenticator.js';
import { RateLimiter } from '../auth/rate-limiter.js';
import { BudgetGuard } from '../budget/budget-guard.js';
import type { Resilience } from './dispatch.js';
import type { Breaker, BreakerFactory } from '../resilience/breaker.js';
import { ClockBreaker } from '../resilience/clock-breaker.js';
import { RetryBudget } from '../resilience/retry-budget.js';
import { LiveStats } from '../resilience/live-stats.js';
import { adminRoutes } from '../routes/admin.js';
import { explainRoutes } from '../routes/explain.js';
import type { CacheStore } from '../cache/cache-store.js';
import { MemoryCache } from '../cache/memory-cache.js';
import { SingleFlight } from '../cache/single-flight.js';
import { SharedStreams } from '../cache/shared-stream.js';
import { inferenceRoutes } from '../routes/inference.js';
import { healthRoutes } from '../routes/health.js';
import { modelRoutes } from '../routes/models.js';
import { operatorRoutes, type OperatorDeps } from '../routes/operator.js';

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
  /** Breakers per upstream: opossum on Node; a clock-checked breaker (no timers) by default. */
  breakerFactory?: BreakerFactory;
  /** Live per-upstream numbers shared with the router (first-byte latency); created here when absent. */
  live?: LiveStats;
  /** The result cache store; an in-memory LRU by default, none when `cache.backend: off`. */
  cache?: CacheStore;
}

export interface GatewayEnv {
  Variables: { ctx: RequestContext };
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
  flights: SingleFlight;
  streams: SharedStreams;
  logger: Logger;
  deps: GatewayDeps;
  /** Marks the request finished (once) and hands it to onComplete. */
  complete(ctx: RequestContext): void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createGateway(config: GatewayConfig, deps: GatewayDeps): Hono<GatewayEnv> {
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
  const services: GatewayServices = {
    config,
    catalog,
    router: deps.router ?? new CatalogRouter(catalog, config.resilience.hedge),
    auth: new Authenticator(config.keys),
    rateLimiter: new RateLimiter(counters, config.tenants, logger),
    budgets: new BudgetGuard(counters, config.prices),
    resilience,
    cache: config.cache.backend === 'off' ? undefined : (deps.cache ?? new MemoryCache(config.cache.max_entries, config.cache.max_bytes)),
    flights: new SingleFlight(),
    streams: new SharedStreams(),
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

  const app = new Hono<GatewayEnv>();
  if (config.server.cors)
    app.use('*', cors({ origin: config.server.cors.origins, exposeHeaders: ['x-request-id', 'x-switchyard-route', 'x-switchyard-policy'] }));

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    const ctx: RequestContext = {
      id,
      startedAt: Date.now(),
      endpoint: 'chat.completions',
      model: '',
      stream: false,
      status: 200,
      attempts: 0,
      principal: ANONYMOUS,
      headers: { 'x-request-id': id },
    };
    c.set('ctx', ctx);
    // Inference needs a key when keys are configured; operator surfaces need an admin key; probes stay open.
    const path = c.req.path;
    if (
      services.auth.enabled &&
      (path.startsWith('/v1/') || path.startsWith('/admin') || path.startsWith('/dashboard') || (path === '/metrics' && config.server.metrics_auth))
    ) {
      ctx.principal = await services.auth.authenticate(c.req.header('authorization'));
      if (!path.startsWith('/v1/') && ctx.principal.role !== 'admin') {
        throw new GatewayError('This endpoint needs an admin key.', { status: 403, code: 'admin_required' });
      }
    }
    await next();
    c.res.headers.set('x-request-id', id);
  });

  app.onError((err, c) => {
    const e = asGatewayError(err);
    const ctx = c.get('ctx');
    if (e.status >= 500 && e.code === 'internal_error') {
      logger.error(
        { reqId: c.get('ctx')?.id, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) },
        'internal error',
      );
    }
    if (ctx) {
      ctx.status = e.status;
      ctx.errorCode = e.code;
      if (ctx.model) services.complete(ctx);
    }
    return e.toResponse(ctx?.headers);
  });

  app.notFound((c) => errors.notFound(new URL(c.req.url).pathname).toResponse(c.get('ctx')?.headers));

  healthRoutes(app, services);
  modelRoutes(app, services);
  inferenceRoutes(app, services);
  operatorRoutes(app, services);
  adminRoutes(app, services);
  explainRoutes(app, services);
  return app;
}

/** Registers a 405 for every method but the allowed one(s) on a path. */
export function methodGuard(app: Hono<GatewayEnv>, path: string, allowed: string): void {
  app.all(path, (c: Context<GatewayEnv>) => {
    throw errors.methodNotAllowed(c.req.method, path, allowed);
  });
}
