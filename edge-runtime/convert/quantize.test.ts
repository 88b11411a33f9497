/**
 * `edge quantize` on fp32 folders: one built by the project (Llama), one converted from a GPT-2 checkpoint, and a
 * hand-made Gemm graph (as other exporters write linear layers). Quantized logits stay within stated bounds of fp32
 * and the engine serves the quantized files.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModelFolder } from '../model/build-model.js';
import { loadModelFolder } from '../model/model-folder.js';
import { GraphBuilder } from '../graph/graph-builder.js';
import { onnx } from '../graph/onnx.js';
import { seededRandom } from '../graph/llama-weights.js';
import { plainGreedy } from '../testing/test-models.js';
import { convertCheckpoint } from './convert.js';
import { engineFor, engineGreedy } from './engine-greedy.js';
import { quantizeOnnxModel } from './onnx-quantize.js';
import { quantizeModelFolder } from './quantize-folder.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-quantize-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const argmax = (a: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
};

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  let r = 0;
  for (let i = 0; i < a.length; i++) {
    e += (a[i]! - b[i]!) ** 2;
    r += a[i]! ** 2;
  }
  return Math.sqrt(e / r);
}

async function compareFolder(dir: string): Promise<Record<'int8' | 'q4', { rel: number; agree: number }>> {
  const spec = loadModelFolder(dir);
  const fp = await ort.InferenceSession.create(readFileSync(spec.onnxFiles.fp32!));
  const prompts = Array.from({ length: 12 }, (_, i) => Array.from({ length: 3 + i }, (_, j) => (i * 41 + j * 13 + 7) % 256));
  const out = {} as Record<'int8' | 'q4', { rel: number; agree: number }>;
  for (const v of ['int8', 'q4'] as const) {
    const q = await ort.InferenceSession.create(readFileSync(spec.onnxFiles[v]!));
    let rel = 0;
    let agree = 0;
    for (const p of prompts) {
      const a = await plainGreedy(fp, spec, p, 1);
      const b = await plainGreedy(q, spec, p, 1);
      rel = Math.max(rel, relErr(a.firstLogits, b.firstLogits));
      if (a.tokens[0] === b.tokens[0]) agree++;
    }
    out[v] = { rel, agree: agree / prompts.length };
  }
  return out;
}

describe('edge quantize', () => {
  it('quantizes a built fp32 Llama folder to int8 and q4 (MatMuls, LM head and embeddings), and the engine serves them', async () => {
    const from = join(root, 'llama-fp32');
    await buildModelFolder({ preset: 'tiny-llama', seed: 3, outDir: from, variants: ['fp32'] });
    const to = join(root, 'llama-quantized');
    const r = await quantizeModelFolder({ from, to, quant: ['int8', 'q4'] });
    // 2 layers x 7 projections + LM head; the embedding table is read only by its Gather.
    expect(r.files.q4!.stats).toMatchObject({ matmuls: 15, gemms: 0, gathers: 1 });
    const fpBytes = statSync(join(to, 'onnx', 'model.onnx')).size;
    // This tiny model's fp32 rotary tables (kept at full precision) weigh as much as its weights: ratios are higher than a real model's.
    console.log(`size vs fp32: int8 ${(r.files.int8!.bytes / fpBytes).toFixed(3)}, q4 ${(r.files.q4!.bytes / fpBytes).toFixed(3)}`);
    expect(r.files.int8!.bytes / fpBytes).toBeLessThan(0.5);
    expect(r.files.q4!.bytes / fpBytes).toBeLessThan(0.4);
    const cmp = await compareFolder(to);
    // Measured: int8 relative RMS error ~1.4%, q4 ~17%; next-token argmax agreement over 12 prompts int8 1.0, q4 ~0.6
    // (this tiny random model has many near-ties; the relative error is the sharper check).
    expect(cmp.int8.rel).toBeLessThan(0.04);
    expect(cmp.q4.rel).toBeLessThan(0.3);
    expect(cmp.int8.agree).toBeGreaterThanOrEqual(0.9);
    expect(cmp.q4.agree).toBeGreaterThanOrEqual(0.4);
    for (const v of ['int8', 'q4'] as const) {
      const ids = await engineGreedy(await engineFor(to, v), [[5, 6, 7, 8]], 8);
      expect(ids[0]!.length).toBeGreaterThan(0);
    }
  });

  it('--block-size: MatMulNBits quantized in blocks of 64, served on the paged path with the same greedy tokens as the file alone', async () => {
    const from = join(root, 'llama-fp32-b64');
    await buildModelFolder({ preset: 'tiny-llama', seed: 3, outDir: from, variants: ['fp32'] });
    const to = join(root, 'llama-q4-b64');
    await quantizeModelFolder({ from, to, quant: ['q4'], blockSize: 64, accuracyLevel: 0 });
    const spec = loadModelFolder(to);
    const bytes = readFileSync(spec.onnxFiles.q4!);
    const nbits = onnx.ModelProto.decode(bytes).graph!.node!.filter((n) => n.opType === 'MatMulNBits');
    expect(nbits.length).toBe(15);
    for (const n of nbits) expect(Number(n.attribute!.find((a) => a.name === 'block_size')!.i)).toBe(64);
    const e = await engineFor(to, 'q4');
    expect(e.load.path).toBe('paged');
    const prompt = [5, 6, 7, 8, 40, 41];
    const [ours] = await engineGreedy(e, [prompt], 8);
    const ref = await plainGreedy(await ort.InferenceSession.create(bytes), spec, prompt, 8);
    expect(ours).toEqual(ref.tokens);
  });

  it('quantizes a converted GPT-2 folder in place', async () => {
    const ckpt = join(root, 'gpt2-ckpt');
    await writeTestCheckpoint({ dir: ckpt, spec: { family: 'gpt2', shape: { hidden: 64, layers: 2, heads: 4, maxPositions: 128, lnEps: 1e-5 } } });
    const dir = join(root, 'gpt2-model');
    await convertCheckpoint({ from: ckpt, to: dir, quant: ['fp32'] });
    const r = await quantizeModelFolder({ from: dir, to: dir, quant: ['int8', 'q4'] });
    // Per layer c_attn, c_proj, c_fc, mlp.c_proj + the LM head; wte is read by its Gather only (the head has its own copy).
    expect(r.files.int8!.stats).toMatchObject({ matmuls: 9, gathers: 1 });
    const cmp = await compareFolder(dir);
    expect(cmp.int8.rel).toBeLessThan(0.04);
    expect(cmp.q4.rel).toBeLessThan(0.3);
  });

  it('quantizes Gemm (transB, bias) as exporters write linear layers', async () => {
    const K = 64;
    const N = 48;
    const rand = seededRandom(9);
    const w = Float32Array.from({ length: N * K }, () => rand() * 2 - 1);
    const b = Float32Array.from({ length: N }, () => rand());
    const g = new GraphBuilder('gemm');
    g.input('x', 'float32', ['batch', K]);
    g.o('Gemm', ['x', g.float('w', [N, K], w), g.float('b', [N], b)], { transB: 1 }, 'y');
    g.output('y', 'float32', ['batch', N]);
    const fpBytes = g.encode();
    const dir = join(root, 'gemm');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.onnx'), fpBytes);
    const { bytes, stats } = quantizeOnnxModel(fpBytes, join(dir, 'model.onnx'), { format: 'int8', int8Kernel: 'nbits', accuracyLevel: 0 });
    expect(stats.gemms).toBe(1);
    const x = Float32Array.from({ length: 2 * K }, () => rand() * 2 - 1);
    const run = async (m: Uint8Array) =>
      ((await (await ort.InferenceSession.create(m)).run({ x: new ort.Tensor('float32', x, [2, K]) }))['y']!.data as Float32Array).slice();
    const [a, q] = [await run(fpBytes), await run(bytes)];
    expect(relErr(a, q)).toBeLessThan(0.01);
    expect(argmax(a.subarray(0, N))).toBe(argmax(q.subarray(0, N)));
  });
});
