/** The Node entry: wires Node-only pieces (undici pools, pino, Redis, the edge worker) into createGateway and serves it. */
import { createGateway, type GatewayDeps } from './app.js';
import type { Logger } from './core/logger.js';
import type { Upstream } from './core/upstream.js';
import type { GatewayConfig } from './config/schema.js';
import { ConfigError } from './config/load-config.js';
import type { CounterStore } from './counters/counter-store.js';
import { LiveStats } from './resilience/live-stats.js';
import { OpossumBreaker } from './resilience/opossum-breaker.js';
import { OpenAICompatibleUpstream } from './upstreams/openai/openai-compatible.js';
import { listen } from './wiring/listen.js';
import { DiskBatchStorage } from './wiring/disk-batch-storage.js';
import { BatchService } from './batch/batch-service.js';
import { edgeIdleGate } from './batch/capacity-gate.js';
import { appLineSender } from './batch/line-sender.js';
import { overflowFromConfig } from './wiring/start-batch-overflow.js';
import { CatalogRouter } from './routing/catalog-router.js';
import { ModelCatalog } from './core/model-catalog.js';
import { createNodeLogger } from './wiring/node-logger.js';
import { startCache } from './wiring/start-cache.js';
import { startPolicy, policyAdmin } from './wiring/start-policy.js';
import { startRecords } from './wiring/start-records.js';
import { startTracing } from './tracing/start-tracing.js';

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
  // Redis and the edge runtime (onnxruntime's native library) are loaded only when the config uses them: together
  // they were ~40 MB of the idle RSS of a gateway that serves cloud upstreams only.
  const counters: CounterStore | undefined = config.redis
    ? new (await import('./counters/redis-counter-store.js')).RedisCounterStore({
        target: config.redis,
        keyPrefix: config.redis.key_prefix,
        commandTimeoutMs: config.redis.command_timeout_ms,
      })
    : undefined;
  const upstreams = await startUpstreams(config, opts, logger);
  const breakers: OpossumBreaker[] = [];
  const records = await startRecords(config, upstreams, () => breakers.map((b) => ({ upstream: b.upstream, state: b.state })));
  const cache = await startCache(config);
  const live = new LiveStats();
  const policy = await startPolicy(config, upstreams, live, logger, counters);
  const batch = config.batch.enabled
    ? new BatchService(
        await DiskBatchStorage.open(config.batch.dir),
        edgeIdleGate(upstreams, config.batch, await edgeMaxSeqs(config)),
        logger,
        undefined,
        overflowFromConfig(config, upstreams, policy?.router ?? new CatalogRouter(new ModelCatalog(upstreams), config.resilience.hedge), (ctx) => {
          records.onComplete(ctx);
          opts.onComplete?.(ctx);
        }),
      )
    : undefined;
  const tracer = await startTracing(config.tracing);
  const app = createGateway(config, {
    tracer,
    batch,
    upstreams,
    logger,
    counters,
    cache,
    live,
    router: policy?.router,
    policyStatus: policy ? () => policy.router.current : undefined,
    policyAdmin: policyAdmin(config, upstreams, policy?.router, records.read),
    operator: records.operator,
    onComplete: (ctx) => {
      records.onComplete(ctx);
      opts.onComplete?.(ctx);
    },
    breakerFactory: (id) => {
      const b = new OpossumBreaker(id, config.resilience.breaker);
      breakers.push(b);
      return b;
    },
  });
  await batch?.start(appLineSender((req, env) => app.fetch(req, env)));
  const server = await listen(app.fetch, config.server, logger);
  logger.info({ url: server.url, models: upstreams.flatMap((u) => u.models.map((m) => m.id)) }, 'switchyard listening');

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      await server.drain();
      await batch?.close();
      await Promise.all(upstreams.map((u) => u.close().catch(() => undefined)));
      await counters?.close();
      policy?.stop();
      await records.close();
      await tracer?.shutdown().catch(() => undefined);
      await cache?.close();
      for (const b of breakers) b.shutdown();
      logger.info('shutdown complete');
    })());
  return { url: server.url, port: server.port, upstreams, shutdown };
}

/** Sequences an edge engine runs at once (the batch API's share of the edge is a part of it); no edge, no share. */
async function edgeMaxSeqs(config: GatewayConfig): Promise<number> {
  if (config.edge.max_num_seqs !== undefined) return config.edge.max_num_seqs;
  return config.edge.enabled ? (await import('../edge-runtime/index.js')).ENGINE_DEFAULTS.maxNumSeqs : 1;
}

/** Edge first: without a policy, the catalog tries upstreams in this order. */
async function startUpstreams(config: GatewayConfig, opts: StartOptions, logger: Logger): Promise<Upstream[]> {
  const edge = config.edge.enabled ? await (await import('./upstreams/edge/start-edge-upstreams.js')).startEdgeUpstreams(config.edge, logger) : [];
  if (config.edge.on_load_failure === 'exit') {
    // A model that cannot be served is a startup error, not a stream of 503s with the reason in one log line.
    const failed = await Promise.all(
      edge.map((u) =>
        u.loaded().then(
          () => undefined,
          (err: unknown) => `${u.models[0]?.id ?? u.id}: ${err instanceof Error ? err.message : String(err)}`,
        ),
      ),
    );
    const reasons = failed.filter((r): r is string => r !== undefined);
    if (reasons.length > 0) {
      await Promise.all(edge.map((u) => u.close().catch(() => undefined)));
      throw new ConfigError(`edge model cannot be served (set edge.on_load_failure: serve to start without it): ${reasons.join('; ')}`);
    }
  }
  const upstreams: Upstream[] = [...(opts.extraUpstreams ?? []), ...edge, ...config.upstreams.map((u) => new OpenAICompatibleUpstream(u))];
  if (upstreams.length === 0) {
    logger.warn('No model is configured: add upstreams or edge models to the config file (see README). Requests will get 404 model_not_found.');
  }
  return upstreams;
}
