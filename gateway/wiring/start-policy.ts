/** Node wiring of the policy file: loaded (a bad file is a startup error naming file:line), then watched for edits. */
import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../config/schema.js';
import { ConfigError } from '../config/load-config.js';
import type { Logger } from '../core/logger.js';
import { ModelCatalog } from '../core/model-catalog.js';
import type { Upstream } from '../core/upstream.js';
import { PolicyRouter } from '../policy/policy-router.js';
import { watchPolicy } from '../policy/watch-policy.js';
import type { LiveStats } from '../resilience/live-stats.js';
import type { CounterStore } from '../counters/counter-store.js';

export interface StartedPolicy {
  router: PolicyRouter;
  stop(): void;
}

export async function startPolicy(
  config: GatewayConfig,
  upstreams: readonly Upstream[],
  live: LiveStats,
  logger: Logger,
  /** Session taint is kept here (Redis when configured). */
  counters?: CounterStore,
): Promise<StartedPolicy | undefined> {
  if (!config.policies) return undefined;
  const file = config.policies.file;
  const router = await PolicyRouter.create(readFileSync(file, 'utf8'), file, new ModelCatalog(upstreams), live, { counters }).catch(
    (err: unknown) => {
      throw new ConfigError(err instanceof Error ? err.message : String(err));
    },
  );
  const stop = watchPolicy(file, router, logger, config.policies.poll_ms);
  logger.info({ file, version: router.current.version }, 'routing policy loaded');
  return { router, stop };
}
