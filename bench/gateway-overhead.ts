/** What the gateway adds on top of an instant upstream: direct vs through the gateway, same run, autocannon load. */
import autocannon from 'autocannon';
import { cpuMicros, startFakeUpstreamProcess, startGatewayProcess } from './lib/processes.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONCURRENCIES = (process.env['BENCH_CONCURRENCY'] ?? '1,10,50').split(',').map(Number);

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

async function load(url: string, body: string, connections: number): Promise<Result> {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: DURATION_S,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx, total: r.requests.total };
}

async function main(): Promise<void> {
  // Three processes: the fake upstream, the gateway, and this load generator; none shares an event loop.
  const fake = await startFakeUpstreamProcess();
  const gw = await startGatewayProcess(
    (port) =>
      `server: { port: ${port} }\nedge: { enabled: false }\nlogging: { level: warn }\nupstreams:\n  - { id: instant, url: "${fake.url}", models: [bench-model] }\n`,
  );
  const rows: Row[] = [];
  // Warm up (JIT, tsx compilation, keep-alive pools) so the first cell does not pay for it.
  const warm = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'warm up' }] });
  await autocannon({
    url: `${gw.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: warm,
    connections: 10,
    duration: 2,
  });
  for (const stream of [false, true]) {
    const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'measure the gateway overhead' }], stream });
    for (const c of CONCURRENCIES) {
      const direct = await load(`${fake.url}/chat/completions`, body, c);
      const cpu0 = cpuMicros(gw.child.pid!);
      const via = await load(`${gw.url}/v1/chat/completions`, body, c);
      const gwCpuPerReq = (cpuMicros(gw.child.pid!) - cpu0) / Math.max(1, via.total);
      rows.push({
        mode: stream ? 'stream' : 'json',
        conc: c,
        'direct rps': Math.round(direct.rps),
        'gw rps': Math.round(via.rps),
        'direct p50 ms': direct.p50,
        'gw p50 ms': via.p50,
        'direct p99 ms': direct.p99,
        'gw p99 ms': via.p99,
        'added p50 ms': +(via.p50 - direct.p50).toFixed(2),
        // The stable figure on a noisy shared machine: gateway CPU per request.
        'gw CPU µs/req': Math.round(gwCpuPerReq),
        errors: direct.errors + via.errors + direct.non2xx + via.non2xx,
      });
    }
  }
  printTable(`Gateway overhead (instant fake upstream, ${DURATION_S}s per cell, 3 processes on 2 cores: load generator, gateway, upstream)`, rows);
  writeResults('gateway-overhead', rows);
  await gw.stop();
  await fake.stop();
}

await main();
