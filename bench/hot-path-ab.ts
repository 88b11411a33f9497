/**
 * In-process A/B of the gateway's CPU per request: two gateway trees (A = BASE_DIR, e.g. an export of the previous
 * commit; B = this tree) loaded side by side in one process, realistic policy, records on, cache miss, driven in
 * interleaved rounds by an undici client against a fake upstream in its own process. CPU is process.cpuUsage() per
 * request (client included, identically for both arms, so differences are the gateway's).
 *   BASE_DIR=/tmp/base npx tsx bench/hot-path-ab.ts          (BENCH_STREAM=1 for 64-chunk streams)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_API_KEY, cpuPerRequest } from './lib/cpu-round.js';
import { startFakeUpstreamProcess } from './lib/processes.js';
import { writeRealisticPolicy } from './lib/realistic-policy.js';

const BASE = process.env['BASE_DIR'];
if (!BASE) throw new Error('BASE_DIR: the tree to compare against');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const N = Number(process.env['BENCH_N'] ?? 1500);
const STREAM = process.env['BENCH_STREAM'] === '1';
const CONC = 16;

process.env['FAKE_CHUNKS'] = '64';
const up = await startFakeUpstreamProcess();
const dir = mkdtempSync(join(tmpdir(), 'sy-ab-'));
const policy = writeRealisticPolicy(dir);
const raw = (name: string) => ({
  server: { port: 0 },
  edge: { enabled: false },
  logging: { level: 'warn' },
  keys: [{ id: 'bench', sha256: createHash('sha256').update(BENCH_API_KEY).digest('hex'), tenant: 'acme' }],
  upstreams: [
    { id: 'instant', url: up.url, models: ['bench-model'] },
    { id: 'backup', url: up.url, models: ['bench-model', 'other-model'] },
  ],
  records: { sink: 'jsonl', dir: join(dir, `records-${name}`) },
  cache: { backend: 'memory' },
  policies: { file: policy },
  batch: { dir: join(dir, `batch-${name}`) },
});

async function start(tree: string, name: string) {
  const { configSchema } = (await import(pathToFileURL(join(tree, 'gateway/config/schema.ts')).href)) as typeof import('../gateway/config/schema.js');
  const { startGateway } = (await import(pathToFileURL(join(tree, 'gateway/node.ts')).href)) as typeof import('../gateway/node.js');
  const { silentLogger } = (await import(pathToFileURL(join(tree, 'gateway/core/logger.ts')).href)) as typeof import('../gateway/core/logger.js');
  return startGateway(configSchema.parse(raw(name)), { logger: silentLogger });
}
const arms = { A: await start(resolve(BASE), 'A'), B: await start(resolve('.'), 'B') };

const round = (url: string, n: number) => cpuPerRequest(url, '/v1/chat/completions', n, STREAM, CONC);

const res: Record<'A' | 'B', number[]> = { A: [], B: [] };
await round(arms.A.url, 300);
await round(arms.B.url, 300);
for (let r = 0; r < ROUNDS; r++) {
  for (const k of (r % 2 ? ['B', 'A'] : ['A', 'B']) as Array<'A' | 'B'>) res[k].push(await round(arms[k].url, N));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(JSON.stringify({ stream: STREAM, rounds: ROUNDS, n: N, A: res.A.map(Math.round), B: res.B.map(Math.round) }));
console.log(
  `median CPU µs/request (client+gateway, one process): A ${med(res.A).toFixed(0)}  B ${med(res.B).toFixed(0)}  B-A ${(med(res.B) - med(res.A)).toFixed(0)}`,
);
await arms.A.shutdown();
await arms.B.shutdown();
await up.stop();
process.exit(0);
