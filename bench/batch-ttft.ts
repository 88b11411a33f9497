/**
 * Does a running batch slow interactive requests on the edge? Interactive streaming requests (4 concurrent clients,
 * the embedded default edge model) timed to first token with the edge idle, then while a 1,000-line batch fills
 * the idle capacity; plus how many batch lines finished meanwhile. Same gateway process, same run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { startGatewayProcess } from './lib/processes.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const N = Number(process.env['BENCH_REQUESTS'] ?? 60);
const LINES = Number(process.env['BENCH_BATCH_LINES'] ?? 1000);
const MODEL = 'switchyard-tiny';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function interactive(client: OpenAI): Promise<number[]> {
  const ttft: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const t0 = performance.now();
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: `interactive ${i}` }],
        max_tokens: 16,
        stream: true,
      });
      let first = true;
      for await (const _ of stream) {
        if (first) ttft.push(performance.now() - t0);
        first = false;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return ttft;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-batch-'));
  const gw = await startGatewayProcess(
    (port) => `server: { port: ${port} }\nlogging: { level: warn }\nrecords: { sink: none }\nbatch: { dir: "${dir}" }\n`,
  );
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120_000 });
  try {
    await interactive(client); // warm-up
    const idle = await interactive(client);
    const lines = Array.from({ length: LINES }, (_, i) =>
      JSON.stringify({
        custom_id: `l${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: MODEL, messages: [{ role: 'user', content: `batch line ${i}` }], max_tokens: 32 },
      }),
    ).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(lines), 'batch.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const before = (await client.batches.retrieve(batch.id)).request_counts?.completed ?? 0;
    const t0 = performance.now();
    const busy = await interactive(client);
    const secs = (performance.now() - t0) / 1000;
    const after = (await client.batches.retrieve(batch.id)).request_counts?.completed ?? 0;
    await client.batches.cancel(batch.id);
    const rows: Row[] = [
      { case: 'edge idle', 'TTFT p50 ms': Math.round(pct(idle, 50)), 'TTFT p95 ms': Math.round(pct(idle, 95)), 'batch lines/s': 0 },
      {
        case: `batch of ${LINES} running`,
        'TTFT p50 ms': Math.round(pct(busy, 50)),
        'TTFT p95 ms': Math.round(pct(busy, 95)),
        'batch lines/s': +((after - before) / secs).toFixed(1),
      },
    ];
    printTable(`Interactive TTFT with and without a running batch (${N} streaming requests, 4 clients, ${MODEL})`, rows);
    console.log(`p95 ratio busy/idle: ${(pct(busy, 95) / pct(idle, 95)).toFixed(2)}x`);
    writeResults('batch-ttft', { rows, ratioP95: pct(busy, 95) / pct(idle, 95) });
  } finally {
    await gw.stop();
  }
}

await main();
