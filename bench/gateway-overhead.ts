/** What the gateway adds on top of an instant upstream: direct vs through the gateway, same run, autocannon load. */
import autocannon from 'autocannon';
import { startFakeOpenAI } from '../test/helpers/fake-openai.js';
import { startTestGateway } from '../test/helpers/gateway.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 5);
const CONCURRENCIES = (process.env['BENCH_CONCURRENCY'] ?? '1,10,50').split(',').map(Number);

interface Result { rps: number; p50: number; p99: number; errors: number; non2xx: number }

async function load(url: string, body: string, connections: number): Promise<Result> {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: DURATION_S,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  const fake = await startFakeOpenAI({ record: false, chunks: 8 });
  const gw = await startTestGateway({ upstreams: [{ id: 'instant', url: fake.url, models: ['bench-model'] }], logging: { level: 'silent' } });
  const rows: Row[] = [];
  for (const stream of [false, true]) {
    const body = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'measure the gateway overhead' }], stream });
    for (const c of CONCURRENCIES) {
      const direct = await load(`${fake.url}/chat/completions`, body, c);
      const via = await load(`${gw.baseURL}/chat/completions`, body, c);
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
        errors: direct.errors + via.errors + direct.non2xx + via.non2xx,
      });
    }
  }
  printTable(`Gateway overhead (instant fake upstream, ${DURATION_S}s per cell, 2 cores shared by load generator, gateway and upstream)`, rows);
  writeResults('gateway-overhead', rows);
  await gw.shutdown();
  await fake.close();
}

await main();
