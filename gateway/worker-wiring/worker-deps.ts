/** The Worker's config and GatewayDeps, from its bindings: Worker-safe pieces in every seam (the entry builds the app). */
import type { GatewayConfig } from '../config/schema.js';
import type { GatewayDeps } from '../services.js';
import { ConfigError } from '../config/load-config.js';
import { ModelCatalog } from '../core/model-catalog.js';
import type { Upstream } from '../core/upstream.js';
import { EncryptedCache } from '../cache/encrypted-cache.js';
import { MemoryCache } from '../cache/memory-cache.js';
import { PolicyRouter } from '../policy/policy-router.js';
import type { RecordSink } from '../records/record-queue.js';
import { toRecord } from '../records/request-record.js';
import { ClockBreaker } from '../resilience/clock-breaker.js';
import { LiveStats } from '../resilience/live-stats.js';
import { MemoryCounterStore } from '../counters/memory-counter-store.js';
import { FetchUpstream } from '../upstreams/openai/fetch-upstream.js';
import { AnalyticsEngineSink } from './analytics-engine-sink.js';
import { CacheApiStore } from './cache-api-store.js';
import { TieredCache } from './tiered-cache.js';
import { createConsoleLogger } from './console-logger.js';
import { LogLineSink } from './log-line-sink.js';
import { parseWorkerConfig } from './worker-config.js';
import { stringBindings, workerEnvSchema } from './worker-env.js';

export const POLICY_SOURCE = 'SWITCHYARD_POLICY';

export interface WorkerGatewayParts {
  config: GatewayConfig;
  deps: GatewayDeps;
}

export async function workerDeps(rawEnv: Record<string, unknown>): Promise<WorkerGatewayParts> {
  const parsedEnv = workerEnvSchema.safeParse(rawEnv);
  if (!parsedEnv.success) {
    throw new ConfigError(parsedEnv.error.issues.map((i) => `Worker binding ${i.path.join('.')}: ${i.message}`).join('\n'));
  }
  const env = parsedEnv.data;
  const config = parseWorkerConfig(env.SWITCHYARD_CONFIG, stringBindings(rawEnv), env.SWITCHYARD_ALLOW_NO_KEYS === 'true');
  const logger = createConsoleLogger(config.logging.level);
  const upstreams: Upstream[] = config.upstreams.map((u) => new FetchUpstream(u));
  const live = new LiveStats();
  // Rate limits, budgets and session taint count per isolate (no TCP for Redis); README says what that means for limits.
  const counters = new MemoryCounterStore();
  const router = env.SWITCHYARD_POLICY
    ? await PolicyRouter.create(env.SWITCHYARD_POLICY, POLICY_SOURCE, new ModelCatalog(upstreams), live, { counters }).catch((err: unknown) => {
        throw new ConfigError(err instanceof Error ? err.message : String(err));
      })
    : undefined;
  const memory = config.cache.backend === 'off' ? undefined : new MemoryCache(config.cache.max_entries, config.cache.max_bytes);
  const tiers = memory && env.SWITCHYARD_SHARED_CACHE === 'cache-api' ? new TieredCache(memory, await CacheApiStore.open()) : memory;
  const cache =
    tiers && config.cache.encryption_key
      ? await EncryptedCache.create(tiers, config.cache.encryption_key).catch((err: unknown) => {
          throw new ConfigError(`SWITCHYARD_CONFIG: cache.encryption_key: ${err instanceof Error ? err.message : String(err)}`);
        })
      : tiers;
  // Records are written as the request ends (both sinks are synchronous calls): no queue, no timer after the response.
  const sink: RecordSink | undefined =
    config.records.sink === 'none' ? undefined : env.RECORDS ? new AnalyticsEngineSink(env.RECORDS) : new LogLineSink();
  const zoneOf = (id: string) => upstreams.find((u) => u.id === id)?.zone ?? null;
  const deps: GatewayDeps = {
    upstreams,
    logger,
    live,
    cache,
    router,
    policyStatus: router ? () => router.current : undefined,
    // Timers do not run between requests on Workers: breakers check the clock on each call instead (opossum never half-opens there).
    breakerFactory: (id) => new ClockBreaker(id, config.resilience.breaker),
    counters,
    onComplete: sink
      ? (ctx) => {
          void sink.write([toRecord(ctx, zoneOf, config.prices)]).catch(() => undefined);
        }
      : undefined,
  };
  return { config, deps };
}
