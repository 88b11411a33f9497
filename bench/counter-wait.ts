/**
 * What `WAIT 1` costs a counter write on a real loopback Redis Cluster: reserve latency with and without it,
 * interleaved in one run (400 rounds, the first 50 discarded as warm-up). Prints a table, writes JSON.
 *   npm run bench:counter-wait
 */
import { RedisCounterStore } from '../gateway/counters/redis-counter-store.js';
import { startRedisCluster } from '../test/helpers/redis-topology.js';
import { printTable, writeResults } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 400);
const WARM = 50;
const cluster = await startRedisCluster();
const prefix = `bw${Date.now().toString(36)}:`;
const item = { key: 'cost', amount: 1, limit: 1_000_000, expiresAt: Date.now() + 600_000 };
const arms = {
  'WAIT 1 (default timeout)': new RedisCounterStore({ target: { nodes: cluster.urls }, keyPrefix: prefix, commandTimeoutMs: 1000 }),
  'no WAIT (replicaAcks 0)': new RedisCounterStore({ target: { nodes: cluster.urls }, keyPrefix: prefix, commandTimeoutMs: 1000, replicaAcks: 0 }),
};
const times = new Map<string, number[]>(Object.keys(arms).map((k) => [k, []]));
try {
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, store] of Object.entries(arms)) {
      const t0 = performance.now();
      await store.reserve([item]);
      if (i >= WARM) times.get(name)!.push(performance.now() - t0);
    }
  }
} finally {
  for (const s of Object.values(arms)) await s.close();
  await cluster.stop();
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
const rows = [...times].map(([arm, xs]) => ({
  arm,
  samples: xs.length,
  'p50 µs': Math.round(q(xs, 0.5) * 1000),
  'p99 µs': Math.round(q(xs, 0.99) * 1000),
  unreplicated: arm.startsWith('WAIT') ? arms['WAIT 1 (default timeout)'].unreplicatedWrites : '',
}));
printTable('Counter reserve on a loopback Redis Cluster, interleaved', rows);
writeResults('counter-wait', { rounds: ROUNDS, warmup: WARM, rows });
process.exit(0);
