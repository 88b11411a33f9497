/**
 * How attention should read a paged KV cache on onnxruntime-node's CPU build (no float PagedAttention op):
 *  - gather: the engine's rewritten graph takes the block pool and block tables and gathers inside ORT, returning only
 *    the new token's K/V;
 *  - assemble: the standard HF graph, with past tensors assembled from the pool's blocks in JS every step (and the full
 *    present tensors handed back by ORT).
 * One decode step for B sequences at context T, median of several steps, same model file, same run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModelFolder } from '../edge-runtime/model/build-model.js';
import { loadModelFolder } from '../edge-runtime/model/model-folder.js';
import { PagedModelRunner } from '../edge-runtime/engine/model-runner.js';
import { printTable, writeResults, type Row } from './lib/report.js';

const B = Number(process.env['BENCH_BATCH'] ?? 16);
const CONTEXTS = (process.env['BENCH_CONTEXTS'] ?? '128,512,1024').split(',').map(Number);
const STEPS = 5;
const BS = 16;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = resolve('.cache/bench-models/bench-50m-seed1');
  if (!existsSync(join(dir, 'config.json'))) await buildModelFolder({ preset: 'bench-50m', seed: 1, outDir: dir, accuracyLevel: 4 });
  const spec = loadModelFolder(dir);
  const bytes = readFileSync(spec.onnxFiles.q4!);
  const { layers: L, kvHeads: KV, headDim: HD } = spec;
  const rows: Row[] = [];
  for (const T of CONTEXTS) {
    const blocksPerSeq = Math.ceil((T + 1) / BS);
    const numBlocks = B * blocksPerSeq + 1;
    const runner = await PagedModelRunner.create(bytes, {
      layout: { layers: L, kvHeads: KV, headDim: HD, blockSize: BS, numBlocks },
      vocabSize: spec.vocab,
      threads: 2,
    });
    for (const p of [...runner.poolK, ...runner.poolV]) for (let i = 0; i < p.length; i++) p[i] = Math.sin(i) * 0.1;
    const tables = Array.from({ length: B }, (_, b) => Array.from({ length: blocksPerSeq }, (_, k) => b * blocksPerSeq + k));
    const gather: number[] = [];
    for (let s = 0; s < STEPS + 1; s++) {
      const t0 = performance.now();
      await runner.forward(tables.map((t) => ({ tokens: [7], startPos: T, blockTable: t })));
      if (s > 0) gather.push(performance.now() - t0);
    }
    // Assemble: copy every sequence's blocks into contiguous past tensors [B, KV, T, hd], then run the HF graph.
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    const assemble: number[] = [];
    for (let s = 0; s < STEPS + 1; s++) {
      const t0 = performance.now();
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', new BigInt64Array(B).fill(7n), [B, 1]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(B * (T + 1)).fill(1n), [B, T + 1]),
        position_ids: new ort.Tensor('int64', new BigInt64Array(B).fill(BigInt(T)), [B, 1]),
      };
      for (let l = 0; l < L; l++) {
        for (const [kind, pool] of [
          ['key', runner.poolK[l]!],
          ['value', runner.poolV[l]!],
        ] as const) {
          const past = new Float32Array(B * KV * T * HD);
          for (let b = 0; b < B; b++) {
            for (let h = 0; h < KV; h++) {
              for (let k = 0; k < Math.ceil(T / BS); k++) {
                const n = Math.min(BS, T - k * BS);
                const src = (tables[b]![k]! * KV + h) * BS * HD;
                past.set(pool.subarray(src, src + n * HD), ((b * KV + h) * T + k * BS) * HD);
              }
            }
          }
          feeds[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', past, [B, KV, T, HD]);
        }
      }
      await session.run(feeds);
      if (s > 0) assemble.push(performance.now() - t0);
    }
    const perToken = L * 2 * KV * HD * 4;
    rows.push({
      batch: B,
      context: T,
      'gather in graph ms/step': +median(gather).toFixed(1),
      'assemble in JS ms/step': +median(assemble).toFixed(1),
      'assemble / gather': +(median(assemble) / median(gather)).toFixed(2),
      'pool MB (paged)': +((numBlocks * BS * perToken) / 2 ** 20).toFixed(1),
      'extra MB per step (assembled past + present)': +((2 * B * (T + 1) * perToken) / 2 ** 20).toFixed(1),
    });
    await runner.release();
    await session.release();
  }
  printTable(`KV feeding for a decode step, bench-50m q4, batch ${B} (median of ${STEPS} steps)`, rows);
  writeResults('kv-feeding', rows);
}

await main();
