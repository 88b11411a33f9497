/** Node wiring of the policy file: loaded (a bad file is a startup error naming file:line), then watched for edits. */
import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../config/schema.js';
import { ConfigError } from '../config/load-config.js';
import { errors, GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ModelCatalog } from '../core/model-catalog.js';
import type { Upstream } from '../core/upstream.js';
import { PolicyRouter } from '../policy/policy-router.js';
import type { RequestRecord } from '../records/request-record.js';
import { newZonesGate, replayOver, type PolicyAdmin, type ReplaySource } from '../replay/policy-gate.js';
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

/**
 * Replay before activation: POST /admin/policies/replay, and with `policies.gate: new_zones` every edit of the file
 * is replayed over the recent records first and held back when a data class would reach a new zone.
 */
export function policyAdmin(
  config: GatewayConfig,
  upstreams: readonly Upstream[],
  router: PolicyRouter | undefined,
  read: ((windowMs: number) => Promise<RequestRecord[]>) | undefined,
): PolicyAdmin | undefined {
  if (!router || !config.policies) return undefined;
  const src: ReplaySource = {
    catalog: new ModelCatalog(upstreams),
    prices: config.prices,
    read:
      read ??
      (async () => {
        throw new GatewayError('Policy replay needs a records sink (records.sink: jsonl or redis).', { status: 404, code: 'unknown_url' });
      }),
    windowMs: config.policies.replay_window_hours * 3_600_000,
  };
  if (config.policies.gate === 'new_zones') router.setGate(newZonesGate(src));
  return {
    replay: async (text, windowMs) => {
      // Only a policy that does not compile is the caller's fault (400 naming `policy`); reading records is ours (5xx).
      const compiled = await router.compile(text).catch((err: unknown) => {
        throw errors.invalid(err instanceof Error ? err.message : String(err), 'policy', 'invalid_value');
      });
      return replayOver(src, compiled, windowMs);
    },
    activate: (force) => router.activatePending(force),
  };
}
