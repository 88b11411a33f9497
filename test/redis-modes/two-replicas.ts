/** Two in-process gateway replicas sharing one Redis target (Cluster or Sentinel), and the load helpers the mode tests share. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { waitUntil } from '../helpers/wait.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

export const LIMITED_KEY = 'sk-sy-redis-modes-limited-0123456789';
export const BUDGET_KEY = 'sk-sy-redis-modes-budgeted-012345678';
export const LOAD_KEY = 'sk-sy-redis-modes-load-key-012345678';
/** No limit: cache checks. */
export const PLAIN_KEY = 'sk-sy-redis-modes-plain-key-01234567';
/** A limit never reached: every request still runs the counter script (fails open while Redis is away). */
export const BUSY_KEY = 'sk-sy-redis-modes-busy-key-012345678';
/** rpm 1: a 429 on it says the replica enforces limits again after a failover. */
export const PROBE_KEY = 'sk-sy-redis-modes-probe-key-01234567';
/** Two tenants under the same per-tenant budget: one spends without a failover (the reference), one across it. */
export const BUDGET_REF_KEY = 'sk-sy-redis-modes-budget-ref-0123456';
export const BUDGET_FAILOVER_KEY = 'sk-sy-redis-modes-budget-fo-01234567';
export const PRICES = { models: { m: { input_per_m: 100, output_per_m: 100 } }, edge_per_m: 0 };
/** rpm of the key the failover load runs with. */
export const LOAD_RPM = 30;

export async function startReplicas(redis: Record<string, unknown>, cloudUrl: string): Promise<TestGateway[]> {
  const policyFile = join(mkdtempSync(join(tmpdir(), 'sy-redis-modes-')), 'policy.yaml');
  writeFileSync(
    policyFile,
    [
      'version: 1',
      'budgets:',
      '  - { id: team, scope: tenant, match: "budgeted", day_usd: 0.02 }',
      '  - { id: fo, scope: tenant, match: "fo-*", day_usd: 0.02 }',
      'rules:',
      '  - id: all',
      '    route: [cloud]',
      '',
    ].join('\n'),
  );
  const raw = {
    policies: { file: policyFile },
    redis: { command_timeout_ms: 300, key_prefix: `t${Date.now().toString(36)}:`, ...redis },
    cache: { backend: 'redis', command_timeout_ms: 300 },
    records: { sink: 'redis', redis_stream: `records-${Date.now().toString(36)}` },
    prices: PRICES,
    // A tenant limit too, so each rate-limit script spans two counters (a key's and its tenant's): CROSSSLOT without tags.
    tenants: { acme: { rpm: 1000 } },
    keys: [
      { id: 'limited', sha256: await sha256Hex(LIMITED_KEY), tenant: 'acme', rpm: 5 },
      { id: 'budgeted', sha256: await sha256Hex(BUDGET_KEY), tenant: 'budgeted' },
      { id: 'load', sha256: await sha256Hex(LOAD_KEY), tenant: 'loadco', rpm: LOAD_RPM },
      { id: 'plain', sha256: await sha256Hex(PLAIN_KEY), tenant: 'plainco' },
      { id: 'busy', sha256: await sha256Hex(BUSY_KEY), tenant: 'busyco', rpm: 100_000 },
      { id: 'probe', sha256: await sha256Hex(PROBE_KEY), tenant: 'probeco', rpm: 1 },
      { id: 'fo-ref', sha256: await sha256Hex(BUDGET_REF_KEY), tenant: 'fo-ref' },
      { id: 'fo-kill', sha256: await sha256Hex(BUDGET_FAILOVER_KEY), tenant: 'fo-kill' },
    ],
    upstreams: [{ id: 'cloud', url: cloudUrl, models: ['m'], max_connections: 64 }],
  };
  return Promise.all([startTestGateway(raw), startTestGateway(raw)]);
}

export interface Outcome {
  status: number;
  code: string | null;
  cache: string | null;
}

export async function send(gw: TestGateway, key: string, content: string, extra: Record<string, unknown> = {}): Promise<Outcome> {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0, timeout: 30_000 });
  try {
    const r = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 20, temperature: 0.7, ...extra })
      .withResponse();
    return { status: 200, code: null, cache: r.response.headers.get('x-switchyard-cache') };
  } catch (e) {
    if (!(e instanceof APIError)) throw e;
    return { status: e.status ?? 0, code: (e.code as string | null) ?? null, cache: null };
  }
}

/** Waits until `margin` ms of the current minute (rate-limit window) remain at least. */
export async function insideMinute(marginMs: number): Promise<void> {
  await waitUntil(() => 60_000 - (Date.now() % 60_000) >= marginMs, { timeoutMs: 61_000, intervalMs: 100 });
}
