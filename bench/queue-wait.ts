/**
 * Edge queue-wait prediction vs measured time to first token. An engine in its worker thread (as the gateway runs it)
 * gets a seeded stream of requests faster than it can serve them, so a queue builds up; for each request the
 * prediction the gateway would read at submit time (lastStats().predictedQueueWaitMs, the value overflow rules use)
 * is compared with its measured TTFT. Reports error p50/p95 (absolute and relative) per max_num_seqs.
 * Requests arriving between two stats snapshots share one (stale) prediction: `fresh_*` columns count only the first
 * request after each new snapshot, i.e. the predictor's own error without the reporting delay.
 *   npm run bench:queue-wait   (BENCH_PRESET=bench-50m|tiny-llama, BENCH_SEQS=4, BENCH_REQUESTS=30, BENCH_GAP_MS=100)
 */
import { seededRandom } from '../edge-runtime/graph/llama-weights.js';
import { startEngine, type EngineHandle, type FromEngine } from '../edge-runtime/index.js';
import { testModel } from '../edge-runtime/testing/test-models.js';
import { printTable, writeResults, type Row } from './lib/report.js';

// tiny-llama's random weights end most answers after a few tokens, so no queue builds; bench-50m answers run long.
const PRESET = (process.env['BENCH_PRESET'] ?? 'bench-50m') as 'tiny-llama' | 'bench-50m';
const SEQS = (process.env['BENCH_SEQS'] ?? '4').split(',').map(Number);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 30);
const GAP_MS = Number(process.env['BENCH_GAP_MS'] ?? 100);
const greedy = { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

interface Sample {
  predictedMs: number;
  ttftMs: number;
  queuedAhead: number;
}

async function run(engine: EngineHandle, seed: number): Promise<Sample[]> {
  const r = seededRandom(seed);
  const samples: Sample[] = [];
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < REQUESTS; i++) {
    const prompt = Array.from({ length: 16 + Math.floor(r() * 48) }, () => 3 + Math.floor(r() * 200));
    const maxTokens = 32 + Math.floor(r() * 97);
    const stats = engine.lastStats();
    const predictedMs = stats?.predictedQueueWaitMs ?? 0;
    const queuedAhead = (stats?.waiting ?? 0) + (stats?.running ?? 0);
    const sent = performance.now();
    pending.push(
      new Promise<void>((resolve, reject) => {
        let first = true;
        engine.submit(
          { id: `q${seed}-${i}`, input: { kind: 'tokens', ids: prompt }, sampling: greedy, maxTokens, stop: [], n: 1 },
          (m: FromEngine) => {
            if ((m.type === 'delta' || m.type === 'finish') && first) {
              first = false;
              samples.push({ predictedMs, ttftMs: performance.now() - sent, queuedAhead });
            }
            if (m.type === 'done') resolve();
            if (m.type === 'error') reject(new Error(m.message));
          },
        );
      }),
    );
    await new Promise((res) => setTimeout(res, GAP_MS)); // the arrival process, not a wait for a condition
  }
  await Promise.all(pending);
  return samples;
}

const dir = await testModel(PRESET, 1);
const rows: Row[] = [];
const raw: Record<string, Sample[]> = {};
for (const maxNumSeqs of SEQS) {
  const engine = startEngine({ modelDir: dir, modelId: PRESET, variant: 'fp32', kvBudgetBytes: 32 << 20, maxNumSeqs });
  await engine.loaded;
  await run(engine, 99); // warm-up: step-time window and output ratio learn the workload
  const samples = (await run(engine, 7)).filter((s) => s.queuedAhead > 0);
  await engine.close();
  raw[`seqs${maxNumSeqs}`] = samples;
  const abs = samples.map((s) => Math.abs(s.ttftMs - s.predictedMs));
  const rel = samples.filter((s) => s.ttftMs > 50).map((s) => Math.abs(s.ttftMs - s.predictedMs) / s.ttftMs);
  const fresh = samples.filter((s, i) => s.queuedAhead > 1 && (i === 0 || s.predictedMs !== samples[i - 1]!.predictedMs));
  const freshRel = fresh.map((s) => Math.abs(s.ttftMs - s.predictedMs) / Math.max(1, s.ttftMs));
  rows.push({
    max_num_seqs: maxNumSeqs,
    samples: samples.length,
    ttft_p50_ms: pct(
      samples.map((s) => s.ttftMs),
      50,
    ),
    ttft_p95_ms: pct(
      samples.map((s) => s.ttftMs),
      95,
    ),
    err_p50_ms: pct(abs, 50),
    err_p95_ms: pct(abs, 95),
    rel_err_p50: pct(rel, 50),
    rel_err_p95: pct(rel, 95),
    fresh_samples: fresh.length,
    fresh_rel_err_p50: pct(freshRel, 50),
    fresh_rel_err_p95: pct(freshRel, 95),
    bias_p50_ms: pct(
      samples.map((s) => s.predictedMs - s.ttftMs),
      50,
    ),
  });
}
printTable(`queue-wait prediction vs measured TTFT (${PRESET}, ${REQUESTS} requests every ${GAP_MS} ms, requests with a queue ahead)`, rows);
writeResults(`queue-wait-${PRESET}`, { rows, raw });
