/** The Node entry: wires Node-only pieces (undici pools, pino, the edge worker) into createGateway and serves it. */
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createGateway, type GatewayDeps } from './app.js';
import type { Logger } from './core/logger.js';
import type { GatewayConfig } from './config/schema.js';
import { OpenAICompatibleUpstream } from './upstreams/openai/openai-compatible.js';
import type { Upstream } from './core/upstream.js';
import { createNodeLogger } from './wiring/node-logger.js';
import { startEdgeUpstreams } from './upstreams/edge/start-edge-upstreams.js';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { ConfigError } from './config/load-config.js';
import { RedisCounterStore } from './counters/redis-counter-store.js';
import type { CounterStore } from './counters/counter-store.js';
import { startRecords } from './wiring/start-records.js';
import { OpossumBreaker } from './resilience/opossum-breaker.js';
import { RedisCache } from './cache/redis-cache.js';
import { MemoryCache } from './cache/memory-cache.js';
import { EncryptedCache } from './cache/encrypted-cache.js';
import { ModelCatalog } from './core/model-catalog.js';
import { PolicyRouter } from './policy/policy-router.js';
import { watchPolicy } from './policy/watch-policy.js';
import { LiveStats } from './resilience/live-stats.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface RunningGateway {
  url: string;
  port: number;
  upstreams: readonly Upstream[];
  /** Stops accepting, lets in-flight requests and streams finish within the grace period, then closes upstreams. */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Upstreams built by the caller (tests, the edge runtime) in addition to the configured ones. */
  extraUpstreams?: Upstream[];
  onComplete?: GatewayDeps['onComplete'];
}

export async function startGateway(config: GatewayConfig, opts: StartOptions = {}): Promise<RunningGateway> {
  if (!LOOPBACK.has(config.server.host) && config.keys.length === 0) {
    throw new ConfigError(
      `Refusing to listen on ${config.server.host} without authentication: add virtual keys (\`switchyard keys create\`) or bind to 127.0.0.1.`,
    );
  }
  const logger = opts.logger ?? createNodeLogger(config.logging.level);
  const counters: CounterStore | undefined = config.redis
    ? new RedisCounterStore({ url: config.redis.url, keyPrefix: config.redis.key_prefix, commandTimeoutMs: config.redis.command_timeout_ms })
    : undefined;
  const edge = await startEdgeUpstreams(config.edge, logger);
  // Edge first: without a policy, the catalog tries upstreams in this order.
  const upstreams: Upstream[] = [...(opts.extraUpstreams ?? []), ...edge, ...config.upstreams.map((u) => new OpenAICompatibleUpstream(u))];
  if (upstreams.length === 0) {
    logger.warn('No model is configured: add upstreams or edge models to the config file (see README). Requests will get 404 model_not_found.');
  }
  const breakers: OpossumBreaker[] = [];
  const records = startRecords(config, upstreams, () => breakers.map((b) => ({ upstream: b.upstream, state: b.state })));
  if (config.cache.backend === 'redis' && !config.redis) throw new ConfigError('cache.backend is redis but no `redis:` section is configured');
  const baseCache =
    config.cache.backend === 'redis'
      ? new RedisCache(config.redis!.url, `${config.redis!.key_prefix}cache:`, config.cache.command_timeout_ms)
      : new MemoryCache(config.cache.max_entries, config.cache.max_bytes);
  const cache =
    config.cache.backend === 'off'
      ? undefined
      : config.cache.encryption_key
        ? await EncryptedCache.create(baseCache, config.cache.encryption_key).catch((err: unknown) => {
            throw new ConfigError(err instanceof Error ? err.message : String(err));
          })
        : baseCache;
  const onComplete = (ctx: Parameters<NonNullable<GatewayDeps['onComplete']>>[0]) => {
    records.onComplete(ctx);
    opts.onComplete?.(ctx);
  };
  const live = new LiveStats();
  let router: PolicyRouter | undefined;
  let stopWatching: (() => void) | undefined;
  if (config.policies) {
    const file = config.policies.file;
    router = await PolicyRouter.create(readFileSync(file, 'utf8'), file, new ModelCatalog(upstreams), live).catch((err: unknown) => {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    });
    stopWatching = watchPolicy(file, router, logger, config.policies.poll_ms);
    logger.info({ file, version: router.current.version }, 'routing policy loaded');
  }
  const breakerFactory = (id: string) => {
    const b = new OpossumBreaker(id, config.resilience.breaker);
    breakers.push(b);
    return b;
  };
  const app = createGateway(config, { upstreams, logger, onComplete, counters, operator: records.operator, breakerFactory, cache, router, live });

  const lim = config.server.limits;
  const tls = config.server.tls;
  const server: ServerType = await new Promise((resolve) => {
    const s = tls
      ? serve(
          {
            fetch: app.fetch,
            hostname: config.server.host,
            port: config.server.port,
            createServer: createHttpsServer,
            serverOptions: { cert: readFileSync(tls.cert_file), key: readFileSync(tls.key_file), maxHeaderSize: lim.max_header_bytes },
          },
          () => resolve(s),
        )
      : serve(
          { fetch: app.fetch, hostname: config.server.host, port: config.server.port, serverOptions: { maxHeaderSize: lim.max_header_bytes } },
          () => resolve(s),
        );
  });
  const http = server as Server;
  // Slow senders and idle keep-alives must not pin sockets forever. requestTimeout bounds receiving the request;
  // a long stream back to the client is bounded by the upstream timeouts instead.
  http.headersTimeout = lim.headers_timeout_ms;
  http.requestTimeout = lim.request_timeout_ms;
  http.keepAliveTimeout = lim.keep_alive_timeout_ms;
  http.maxHeadersCount = lim.max_headers;
  const port = (http.address() as AddressInfo).port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;
  logger.info({ url, models: upstreams.flatMap((u) => u.models.map((m) => m.id)) }, 'switchyard listening');

  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info({ graceMs: config.server.shutdown_grace_ms }, 'shutting down: draining in-flight requests');
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      // Keep-alive sockets that finish their request become idle: close them as they do.
      const idle = setInterval(() => http.closeIdleConnections(), 50);
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.server.shutdown_grace_ms).unref());
      const outcome = await Promise.race([closed.then(() => 'drained' as const), grace]);
      clearInterval(idle);
      if (outcome === 'timeout') {
        logger.warn('grace period over: closing remaining connections');
        http.closeAllConnections();
        await closed;
      }
      await Promise.all(upstreams.map((u) => u.close().catch(() => undefined)));
      await counters?.close();
      stopWatching?.();
      await records.close();
      await cache?.close();
      for (const b of breakers) b.shutdown();
      logger.info('shutdown complete');
    })();
    return stopping;
  };
  return { url, port, upstreams, shutdown };
}
