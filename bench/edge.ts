/**
 * Edge runtime vs transformers.js on the same ~50M-parameter built model folder, in one run:
 *  A. batch-1 prefill and decode tokens/s for fp32, int8 and 4-bit;
 *  B. 1/4/16/32 concurrent streams (seeded workload: prompts 32-256 tokens, outputs 64-128), output tokens/s,
 *     TTFT and time per output token p50/p95;
 *  C. KV waste over the 16-stream run and the memory a contiguous max-length reservation would need;
 *  D. TTFT of a request sharing a 512-token prefix, with and without prefix caching.
 * Switchyard's engine runs its step loop in this process (the gateway runs the same loop in a worker thread).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { buildModelFolder } from '../edge-runtime/model/build-model.js';
import { createEngine, bytesPerBlock, type CreatedEngine } from '../edge-runtime/worker/create-engine.js';
import { engineOptionsSchema } from '../edge-runtime/engine/engine-options.js';
import { loadModelFolder } from '../edge-runtime/model/model-folder.js';
import { seededRandom } from '../edge-runtime/graph/llama-weights.js';
import type { WeightFormat } from '../edge-runtime/graph/linear.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const PRESET = (process.env['BENCH_PRESET'] ?? 'bench-50m') as 'bench-50m' | 'small-llama' | 'tiny-llama';
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,4,16,32').split(',').map(Number);
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'fp32,int8,q4').split(',') as WeightFormat[];
const greedy = { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };
const TJS_DTYPE: Record<WeightFormat, 'fp32' | 'q8' | 'q4'> = { fp32: 'fp32', int8: 'q8', q4: 'q4' };

interface Req {
  prompt: number[];
  max: number;
}
interface Timing {
  start: number;
  tokens: number[];
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function workload(n: number, vocab: number, seed = 1): Req[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const len = 32 + Math.floor(r() * 225);
    return { prompt: Array.from({ length: len }, () => Math.floor(r() * (vocab - 3))), max: 64 + Math.floor(r() * 65) };
  });
}

function summarise(name: string, n: number, reqs: Req[], timings: Timing[], wallMs: number): Row {
  const ttft = timings.map((t) => t.tokens[0]! - t.start);
  const tpot = timings.flatMap((t) => t.tokens.slice(1).map((x, i) => x - t.tokens[i]!));
  const total = timings.reduce((a, t) => a + t.tokens.length, 0);
  void reqs;
  return {
    engine: name,
    streams: n,
    'out tok/s': Math.round((total / wallMs) * 1000),
    'TTFT p50 ms': Math.round(pct(ttft, 50)),
    'TTFT p95 ms': Math.round(pct(ttft, 95)),
    'TPOT p50 ms': +pct(tpot, 50).toFixed(1),
    'TPOT p95 ms': +pct(tpot, 95).toFixed(1),
    tokens: total,
  };
}

async function engineFor(dir: string, variant: WeightFormat, extra: Record<string, unknown> = {}, prefixCaching = true): Promise<CreatedEngine> {
  return createEngine({
    ...engineOptionsSchema.parse({
      modelDir: dir,
      modelId: 'bench',
      variant,
      kvBudgetBytes: 512 << 20,
      maxNumSeqs: 32,
      maxBatchedTokens: 512,
      threads: 2,
      ...extra,
    }),
    prefixCaching,
  });
}

/** Runs requests through our engine; returns per-request token times. `onStep` samples live stats. */
async function runOurs(e: CreatedEngine, reqs: Req[], onStep?: () => void): Promise<{ timings: Timing[]; wallMs: number }> {
  const timings: Timing[] = reqs.map(() => ({ start: 0, tokens: [] }));
  const origNewSink = e.tokenizer.newSink.bind(e.tokenizer);
  let k = 0;
  e.tokenizer.newSink = (stop) => {
    const t = timings[k++]!;
    const sink = origNewSink(stop);
    return { push: (tok) => (t.tokens.push(performance.now()), sink.push(tok)), flush: () => sink.flush() };
  };
  const t0 = performance.now();
  reqs.forEach((r, i) => {
    timings[i]!.start = performance.now();
    // Random-weight models hit EOS at random: -1 maxTokens semantics would differ from transformers.js, so ban EOS.
    const bias = Object.fromEntries(e.tokenizer.eosIds.map((id) => [String(id), -100]));
    e.core.submit(
      { id: `q${i}-${t0}`, input: { kind: 'tokens', ids: r.prompt }, sampling: { ...greedy, logitBias: bias }, maxTokens: r.max, stop: [], n: 1 },
      () => undefined,
    );
  });
  while (e.core.hasWork()) {
    await e.core.step();
    onStep?.();
  }
  e.tokenizer.newSink = origNewSink;
  return { timings, wallMs: performance.now() - t0 };
}

async function runTjs(
  model: Awaited<ReturnType<typeof AutoModelForCausalLM.from_pretrained>>,
  reqs: Req[],
): Promise<{ timings: Timing[]; wallMs: number }> {
  const timings: Timing[] = reqs.map(() => ({ start: 0, tokens: [] }));
  const t0 = performance.now();
  await Promise.all(
    reqs.map(async (r, i) => {
      const t = timings[i]!;
      t.start = performance.now();
      let first = true;
      const streamer = {
        put: (value: bigint[][]) => {
          // generate() first puts the prompt itself.
          if (first && value[0]!.length > 1) {
            first = false;
            return;
          }
          first = false;
          t.tokens.push(performance.now());
        },
        end: () => undefined,
      };
      const ids = new Tensor('int64', BigInt64Array.from(r.prompt.map(BigInt)), [1, r.prompt.length]);
      await model.generate({ input_ids: ids, max_new_tokens: r.max, min_new_tokens: r.max, do_sample: false, streamer: streamer as never });
    }),
  );
  return { timings, wallMs: performance.now() - t0 };
}

async function main(): Promise<void> {
  const dir = resolve(`.cache/bench-models/${PRESET}-seed1`);
  if (!existsSync(join(dir, 'config.json'))) {
    console.log(`building ${PRESET} (once; cached in ${dir}) ...`);
    await buildModelFolder({ preset: PRESET, seed: 1, outDir: dir, accuracyLevel: 4 });
  }
  const spec = loadModelFolder(dir);
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(dir)}/`;
  const results: Record<string, unknown> = { preset: PRESET };

  // A. batch-1 prefill and decode.
  const single: Row[] = [];
  const prompt = workload(1, spec.vocab, 7)[0]!
    .prompt.concat(workload(1, spec.vocab, 8)[0]!.prompt)
    .slice(0, 256);
  for (const v of VARIANTS) {
    const e = await engineFor(dir, v);
    await runOurs(e, [{ prompt: prompt.slice(0, 32), max: 8 }]); // warm-up
    const ours = await runOurs(e, [{ prompt, max: 64 }]);
    const t = ours.timings[0]!;
    const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: TJS_DTYPE[v] });
    await runTjs(model, [{ prompt: prompt.slice(0, 32), max: 8 }]);
    const theirs = (await runTjs(model, [{ prompt, max: 64 }])).timings[0]!;
    for (const [name, tm] of [
      ['switchyard', t],
      ['transformers.js', theirs],
    ] as const) {
      single.push({
        variant: v,
        engine: name,
        'prefill tok/s': Math.round(prompt.length / ((tm.tokens[0]! - tm.start) / 1000)),
        'decode tok/s': Math.round(((tm.tokens.length - 1) / (tm.tokens[tm.tokens.length - 1]! - tm.tokens[0]!)) * 1000),
      });
    }
    await e.runner.release();
    await model.dispose();
  }
  printTable(`A. Batch 1: prefill (256-token prompt) and decode (64 tokens), ${PRESET}`, single);
  results['single'] = single;

  // B + C. Concurrency on the 4-bit model.
  const conc: Row[] = [];
  const waste: Row[] = [];
  const e = await engineFor(dir, 'q4');
  const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: 'q4' });
  await runOurs(e, workload(4, spec.vocab, 99));
  for (const n of CONCURRENCY) {
    const reqs = workload(n, spec.vocab, n);
    let wasteSum = 0;
    let steps = 0;
    let peakUsed = 0;
    const ours = await runOurs(e, reqs, () => {
      const s = e.kv.stats();
      if (s.used > 0) {
        wasteSum += s.waste;
        steps++;
      }
      peakUsed = Math.max(peakUsed, s.used);
    });
    conc.push(summarise('switchyard', n, reqs, ours.timings, ours.wallMs));
    const theirs = await runTjs(model, reqs);
    conc.push(summarise('transformers.js', n, reqs, theirs.timings, theirs.wallMs));
    const perBlock = bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, 16);
    const perToken = perBlock / 16;
    waste.push({
      streams: n,
      'KV waste % (mean over steps)': +((100 * wasteSum) / Math.max(1, steps)).toFixed(2),
      'paged peak MB': +((peakUsed * perBlock) / 2 ** 20).toFixed(1),
      'contiguous max-length MB': +((n * spec.maxContext * perToken) / 2 ** 20).toFixed(1),
      'contiguous per-request max MB': +((reqs.reduce((a, r) => a + r.prompt.length + r.max, 0) * perToken) / 2 ** 20).toFixed(1),
    });
  }
  printTable('B. Concurrent streams, 4-bit, greedy (prompts 32-256, outputs 64-128 tokens)', conc);
  printTable('C. KV memory', waste);
  results['concurrency'] = conc;
  results['kv'] = waste;

  // D. Shared 512-token prefix.
  const prefix = workload(1, spec.vocab, 512)[0]!
    .prompt.concat(...workload(3, spec.vocab, 513).map((r) => r.prompt))
    .slice(0, 512);
  const sharing: Row[] = [];
  for (const caching of [false, true]) {
    const eng = await engineFor(dir, 'q4', {}, caching);
    await runOurs(eng, [{ prompt: [...prefix, 1, 2, 3, 4], max: 1 }]);
    const b = await runOurs(eng, [{ prompt: [...prefix, 9, 8, 7, 6, 5], max: 1 }]);
    sharing.push({
      'prefix caching': caching ? 'on' : 'off',
      'TTFT ms': Math.round(b.timings[0]!.tokens[0]! - b.timings[0]!.start),
      'hit rate': +eng.kv.stats().prefixHitRate.toFixed(2),
    });
    await eng.runner.release();
  }
  printTable('D. TTFT of a request sharing a 512-token prefix with an earlier one', sharing);
  results['prefix'] = sharing;
  writeResults(`edge-${PRESET}`, results);
}

await main();
