/** Cache-hit latency through the gateway, memory vs Redis, next to a miss against an instant upstream (same run). */
import autocannon from 'autocannon';
import { startFakeUpstreamProcess, startGatewayProcess } from './lib/processes.js';
import { startRedis } from '../test/helpers/redis-server.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONNECTIONS = Number(process.env['BENCH_CONCURRENCY'] ?? 10);

async function main(): Promise<void> {
  const fake = await startFakeUpstreamProcess();
  const redis = await startRedis();
  const base = (port: number, cache: string) =>
    `server: { port: ${port} }\nedge: { enabled: false }\nlogging: { level: warn }\nrecords: { sink: none }\n${cache}\nupstreams:\n  - { id: instant, url: "${fake.url}", models: [bench-model] }\n`;
  const mem = await startGatewayProcess((p) => base(p, 'cache: { backend: memory }'));
  const red = await startGatewayProcess((p) =>
    base(p, `redis: { url: "${redis.url}", command_timeout_ms: 50 }\ncache: { backend: redis, command_timeout_ms: 50 }`),
  );
  const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'a cacheable question' }], temperature: 0 });
  const rows: Row[] = [];
  const run = async (name: string, url: string, headers: Record<string, string> = {}) => {
    const r = await autocannon({
      url: `${url}/v1/chat/completions`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      connections: CONNECTIONS,
      duration: DURATION_S,
    });
    rows.push({
      case: name,
      conc: CONNECTIONS,
      rps: Math.round(r.requests.average),
      'p50 ms': r.latency.p50,
      'p99 ms': r.latency.p99,
      'mean ms': +r.latency.average.toFixed(2),
      errors: r.errors + r.non2xx,
    });
  };
  // Warm both caches (and the JIT).
  await run('warm-up memory', mem.url);
  await run('warm-up redis', red.url);
  rows.length = 0;
  await run('hit: memory cache', mem.url);
  await run('hit: redis cache', red.url);
  await run('miss (no-cache) -> instant upstream', mem.url, { 'cache-control': 'no-cache' });
  printTable(
    `Result cache latency through the gateway (${CONNECTIONS} connections, ${DURATION_S}s per case; gateway, upstream, redis and load generator share 2 cores)`,
    rows,
  );
  writeResults('cache-latency', rows);
  await mem.stop();
  await red.stop();
  await fake.stop();
  await redis.stop();
}

await main();
