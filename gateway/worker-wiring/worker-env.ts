/** The Worker's bindings (wrangler.toml `[vars]`, secrets, Analytics Engine), checked with zod at the boundary. */
import { z } from 'zod';

/** The slice of Workers Analytics Engine the records sink uses (`[[analytics_engine_datasets]]` binding). */
export interface AnalyticsEngineDataset {
  writeDataPoint(point: { indexes?: string[]; blobs?: (string | null)[]; doubles?: number[] }): void;
}

const analyticsEngine = z.custom<AnalyticsEngineDataset>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { writeDataPoint?: unknown }).writeDataPoint === 'function',
  'an Analytics Engine dataset binding',
);

export const workerEnvSchema = z.looseObject({
  /** The gateway config (the same YAML, or JSON, as the Node config file); `${NAME}` reads other string bindings (secrets). */
  SWITCHYARD_CONFIG: z.string().default(''),
  /** The routing policy (YAML), bundled with the deployment; same validation as the policy file on Node. */
  SWITCHYARD_POLICY: z.string().optional(),
  /** Serve without virtual keys. A deployed Worker is public, so this is for `wrangler dev` on loopback only. */
  SWITCHYARD_ALLOW_NO_KEYS: z.enum(['true', 'false']).default('false'),
  /** A second cache tier shared by the isolates of a data center (the Workers Cache API; needs a custom domain). */
  SWITCHYARD_SHARED_CACHE: z.enum(['off', 'cache-api']).default('off'),
  /** When bound, request records go to Analytics Engine instead of a log line. */
  RECORDS: analyticsEngine.optional(),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** The string bindings (vars and secrets): what `${NAME}` in the config may read. */
export function stringBindings(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
