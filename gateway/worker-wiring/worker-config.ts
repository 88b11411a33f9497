/**
 * The gateway config on Workers: the same schema and errors (source:line: field) as on Node, plus a check that every
 * section asks only for what a Worker can do. Anything else is refused by name rather than silently ignored.
 */
import { ConfigError, parseConfig } from '../config/load-config.js';
import type { GatewayConfig } from '../config/schema.js';

export const CONFIG_SOURCE = 'SWITCHYARD_CONFIG';

export function parseWorkerConfig(text: string, bindings: Record<string, string>, allowNoKeys: boolean): GatewayConfig {
  const config = parseConfig(text, CONFIG_SOURCE, bindings);
  const problems: string[] = [];
  if (config.redis) problems.push('redis: no TCP client on Workers (rate limits and budgets are per isolate; see README)');
  if (config.cache.backend === 'redis') problems.push('cache.backend: redis needs TCP; use memory (an LRU per isolate)');
  if (config.records.sink === 'redis') problems.push('records.sink: redis needs TCP; use jsonl (a log line) or bind RECORDS (Analytics Engine)');
  if (config.policies) problems.push('policies.file: Workers have no file system; put the policy text in the SWITCHYARD_POLICY var');
  if (config.edge.models.length > 0)
    problems.push(
      'edge.models: no in-process engine on Workers; add the edge server as an upstream with its zone (`device`, `on-prem` or `region:<name>`)',
    );
  if (config.server.tls) problems.push('server.tls: Cloudflare terminates TLS for a Worker');
  if (config.keys.length === 0 && !allowNoKeys)
    problems.push(
      'keys: a deployed Worker is public; add virtual keys (`switchyard keys create`), or set SWITCHYARD_ALLOW_NO_KEYS=true for local dev',
    );
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${CONFIG_SOURCE}: ${p}`).join('\n'));
  return config;
}
