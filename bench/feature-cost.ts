/**
 * What each gateway feature costs per request: arms that differ by one config section, loaded side by side in one
 * process with the bare proxy, driven in interleaved rounds (the order rotates each round) by an undici client
 * against a fake upstream in its own process. CPU is process.cpuUsage() per request, client included; the `direct`
 * arm (client straight to the fake upstream) is the client's own share, so `gateway µs` = arm - direct.
 *   npx tsx bench/feature-cost.ts            (BENCH_STREAM=1: 64-chunk streams; BENCH_ROUNDS, BENCH_N, BENCH_ARMS)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../gateway/config/schema.js';
import { silentLogger } from '../gateway/core/logger.js';
import { startGateway } from '../gateway/node.js';
import { serveBareProxy } from './lib/bare-proxy.mjs';
import { BENCH_API_KEY, cpuPerRequest } from './lib/cpu-round.js';
import { startFakeUpstreamProcess } from './lib/processes.js';
import { writeRealisticPolicy } from './lib/realistic-policy.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const N = Number(process.env['BENCH_N'] ?? 1500);
const STREAM = process.env['BENCH_STREAM'] === '1';
const CONC = 16;

process.env['FAKE_CHUNKS'] = '64';
const up = await startFakeUpstreamProcess();
const dir = mkdtempSync(join(tmpdir(), 'sy-features-'));
const policy = writeRealisticPolicy(dir);
const sha = createHash('sha256').update(BENCH_API_KEY).digest('hex');

interface Features {
  keys?: boolean;
  records?: boolean;
  cache?: boolean;
  /** cache.max_entries: a small cache tells the cost of holding entries from the cost of the cache's work. */
  cacheEntries?: number;
  policy?: boolean;
}
const ONLY = process.env['BENCH_ARMS']?.split(',').map(Number);
const ALL_ARMS: Array<[string, Features]> = [
  ['switchyard, no features', {}],
  ['+ virtual keys', { keys: true }],
  ['+ records (jsonl)', { records: true }],
  ['+ cache (memory, miss)', { cache: true }],
  ['+ cache (memory, miss, 100 entries)', { cache: true, cacheEntries: 100 }],
  ['+ policy (realistic)', { policy: true }],
  ['+ policy + cache (rule turns cache on)', { policy: true, cache: true }],
  ['all but keys', { records: true, cache: true, policy: true }],
  ['all but records', { keys: true, cache: true, policy: true }],
  ['all (the bench row)', { keys: true, records: true, cache: true, policy: true }],
];
// BENCH_ARMS=0,3,8: only these arms (indexes into the list above), besides direct and bare.
const ARMS = ONLY ? ALL_ARMS.filter((_, i) => ONLY.includes(i)) : ALL_ARMS;

async function startArm(name: string, f: Features) {
  const sub = join(dir, name.replace(/\W+/g, '-'));
  mkdirSync(sub, { recursive: true });
  const cfg = configSchema.parse({
    server: { port: 0 },
    edge: { enabled: false },
    logging: { level: 'warn' },
    keys: f.keys ? [{ id: 'bench', sha256: sha, tenant: 'acme' }] : [],
    upstreams: [
      { id: 'instant', url: up.url, models: ['bench-model'] },
      { id: 'backup', url: up.url, models: ['bench-model', 'other-model'] },
    ],
    records: f.records ? { sink: 'jsonl', dir: join(sub, 'records') } : { sink: 'none' },
    cache: { backend: f.cache ? 'memory' : 'off', ...(f.cacheEntries ? { max_entries: f.cacheEntries } : {}) },
    ...(f.policy ? { policies: { file: policy } } : {}),
    batch: { dir: join(sub, 'batch') },
  });
  const gw = await startGateway(cfg, { logger: silentLogger });
  return { url: gw.url, close: () => gw.shutdown() };
}

const targets: Array<{ name: string; url: string; path: string; close: () => Promise<void> }> = [];
targets.push({ name: 'direct (client only)', url: new URL(up.url).origin, path: '/v1/chat/completions', close: async () => undefined });
const bare = await serveBareProxy(up.url);
targets.push({ name: 'bare proxy (Hono+zod+undici)', url: bare.url, path: '/v1/chat/completions', close: bare.close });
for (const [name, f] of ARMS) targets.push({ name, path: '/v1/chat/completions', ...(await startArm(name, f)) });

const round = (url: string, path: string, n: number) => cpuPerRequest(url, path, n, STREAM, CONC);

const res = targets.map(() => [] as number[]);
for (const t of targets) await round(t.url, t.path, 300); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < targets.length; k++) {
    const i = (k + r) % targets.length;
    res[i]!.push(await round(targets[i]!.url, targets[i]!.path, N));
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const client = med(res[0]!);
const bareUs = med(res[1]!) - client;
const rows = targets.map((t, i) => {
  const us = med(res[i]!) - client;
  return { arm: t.name, 'gateway CPU µs/req': i === 0 ? client : Math.round(us), 'vs bare': i === 0 ? '' : (us / bareUs).toFixed(2) };
});
console.log(`${STREAM ? '64-chunk streams' : 'JSON'}, ${ROUNDS} rounds x ${N} requests, concurrency ${CONC}, median per arm`);
console.table(rows);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  `bench/results/feature-cost${STREAM ? '-stream' : ''}.json`,
  JSON.stringify({ at: new Date().toISOString(), stream: STREAM, rounds: ROUNDS, n: N, rows, raw: res.map((xs) => xs.map(Math.round)) }, null, 2),
);
for (const t of targets) await t.close();
await up.stop();
process.exit(0);
