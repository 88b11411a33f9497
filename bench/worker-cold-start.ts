/**
 * How long the Worker takes from `wrangler dev` starting to its first answers (workerd on 127.0.0.1, offline), and what
 * a warm request costs there, against the fake upstream on loopback. A few runs one after another, never in parallel.
 */
import { startFakeOpenAI } from '../test/helpers/fake-openai.js';
import { startWranglerDev } from '../test/worker/wrangler-dev.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WARM_REQUESTS = 50;

async function main(): Promise<void> {
  const fake = await startFakeOpenAI({ record: false });
  const config = JSON.stringify({
    upstreams: [{ id: 'cloud', url: fake.url, models: ['m'] }],
    logging: { level: 'warn' },
    records: { sink: 'none' },
  });
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
  const rows: Row[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = Date.now();
    const dev = await startWranglerDev({ SWITCHYARD_CONFIG: config, SWITCHYARD_ALLOW_NO_KEYS: 'true' });
    const ask = () => fetch(`${dev.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    try {
      const first = await ask();
      if (first.status !== 200) throw new Error(`first chat answer: ${first.status} ${await first.text()}`);
      await first.text();
      const firstChatMs = Date.now() - started;
      const warm: number[] = [];
      for (let j = 0; j < WARM_REQUESTS; j++) {
        const t = performance.now();
        await (await ask()).text();
        warm.push(performance.now() - t);
      }
      warm.sort((a, b) => a - b);
      rows.push({
        run: i + 1,
        'spawn -> first answer (/healthz) ms': dev.coldStartMs,
        'spawn -> first chat completion ms': firstChatMs,
        'warm chat p50 ms': Number(warm[Math.floor(warm.length / 2)]!.toFixed(2)),
      });
    } finally {
      await dev.stop();
    }
  }
  await fake.close();
  printTable('Worker cold start under wrangler dev (workerd, loopback upstream)', rows);
  console.log(`results: ${writeResults('worker-cold-start', { runs: rows })}`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
