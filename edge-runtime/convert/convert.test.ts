/**
 * Tiny random checkpoints in the Hugging Face layout, converted, then checked against a float64 forward pass over the
 * checkpoint's own tensors: fp32 logits within 1e-4, greedy ids through the real paged engine identical; int8 and q4
 * within the bounds stated below.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from './checkpoint.js';
import { convertCheckpoint, readCheckpointConfig } from './convert.js';
import { archFromConfig } from './hf-config.js';
import { HfReference } from './hf-reference.js';
import { engineFor, engineGreedy } from './engine-greedy.js';
import { writeTestCheckpoint, type WriteCheckpointOptions } from './test-checkpoint.js';
import { loadModelFolder, type ModelSpec } from '../model/model-folder.js';
import { LlamaReference } from '../reference/llama-reference.js';
import { Gpt2Reference } from '../reference/gpt2-reference.js';
import type { WeightFormat } from '../graph/linear.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-convert-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const llamaShape = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 256, ropeTheta: 10000, rmsEps: 1e-5 };
const gpt2Shape = { hidden: 64, layers: 2, heads: 4, maxPositions: 256, lnEps: 1e-5 };
const prompt = [10, 200, 33, 7, 99, 150, 3, 41, 250, 12, 8, 77];
const prompts = [prompt, [1, 2, 3], Array.from({ length: 30 }, (_, i) => (i * 29 + 5) % 256)];

/** Logits of every position of `tokens` through the unpaged fp32 graph (prefill, then single-token decode steps). */
async function graphLogits(spec: ModelSpec, file: string, prefill: number[], decode: number[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(readFileSync(file));
  const rows: Float32Array[] = [];
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < spec.layers; l++)
    for (const kv of ['key', 'value'])
      past[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, spec.kvHeads, 0, spec.headDim]);
  let pos = 0;
  for (const chunk of [prefill, ...decode.map((t) => [t])]) {
    const S = chunk.length;
    const r = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(chunk.map(BigInt)), [1, S]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + S).fill(1n), [1, pos + S]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(chunk.map((_, i) => BigInt(pos + i))), [1, S]),
      ...past,
    });
    const logits = r['logits']!.data as Float32Array;
    for (let s = 0; s < S; s++) rows.push(logits.slice(s * spec.vocab, (s + 1) * spec.vocab));
    past = {};
    for (let l = 0; l < spec.layers; l++) for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = r[`present.${l}.${kv}`]!;
    pos += S;
  }
  await session.release();
  return rows;
}

const argmax = (a: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[b]!) b = i;
  return b;
};

function refGreedy(ref: HfReference, p: number[], n: number): number[] {
  ref.reset();
  let row = ref.forward(p).at(-1)!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = argmax(row);
    out.push(t);
    row = ref.forward([t])[0]!;
  }
  return out;
}

interface Case {
  name: string;
  ckpt: Omit<WriteCheckpointOptions, 'dir'>;
}

const cases: Case[] = [
  {
    name: 'llama GQA, F32, single file, llama3 rope scaling',
    ckpt: {
      spec: {
        family: 'llama',
        shape: llamaShape,
        ropeScaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
      },
    },
  },
  {
    name: 'qwen2 biases + tied embeddings, BF16, 3 shards',
    ckpt: { spec: { family: 'qwen2', shape: llamaShape, biases: true, tied: true }, dtype: 'BF16', shards: 3, seed: 2 },
  },
  {
    name: 'gpt2 (bare tensor names), F16, 2 shards',
    ckpt: { spec: { family: 'gpt2', shape: gpt2Shape, bareNames: true }, dtype: 'F16', shards: 2, seed: 3 },
  },
];

describe.each(cases)('convert $name', ({ name, ckpt }) => {
  const slug = name.split(' ')[0]!;
  const from = join(root, `${slug}-ckpt`);
  const to = join(root, `${slug}-model`);
  let ref: HfReference;
  let spec: ModelSpec;

  beforeAll(async () => {
    await writeTestCheckpoint({ dir: from, ...ckpt });
    await convertCheckpoint({ from, to, quant: ['fp32', 'int8', 'q4'] });
    const { raw, path } = readCheckpointConfig(from);
    const ck = await Checkpoint.open(from);
    ref = await HfReference.load(ck, archFromConfig(raw, path));
    await ck.close();
    spec = loadModelFolder(to);
  });

  it('fp32 logits match the float64 reference over the checkpoint within 1e-4 (prefill and cached decode)', async () => {
    const decode = [5, 180, 64];
    const rows = await graphLogits(spec, spec.onnxFiles.fp32!, prompt, decode);
    ref.reset();
    const refRows = ref.forward([...prompt, ...decode]);
    let maxDiff = 0;
    refRows.forEach((r, s) => r.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - rows[s]![i]!)))));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('greedy ids through the paged engine (fp32, 3 concurrent prompts) equal the reference', async () => {
    const e = await engineFor(to, 'fp32');
    const ours = await engineGreedy(e, prompts, 16);
    prompts.forEach((p, i) => {
      const want = refGreedy(ref, p, 16);
      expect(ours[i]!.length).toBeGreaterThan(0);
      expect(ours[i]).toEqual(want.slice(0, ours[i]!.length));
      // The engine stops early only at an EOS id.
      if (ours[i]!.length < 16) expect(spec.eosIds).toContain(ours[i]!.at(-1));
    });
  });

  // Bounds on the logits' error relative to their own RMS, measured on these tiny random models: int8 ~1-1.3%, q4 ~12-17%;
  // argmax agreement over 15 positions int8 15/15, q4 11-15/15 (4-bit blocks flip this tiny random
  // model's near-ties). A broken quantizer gives errors of the logits' own size.
  const bounds: Record<Exclude<WeightFormat, 'fp32'>, { rel: number; agree: number }> = {
    int8: { rel: 0.04, agree: 0.9 },
    q4: { rel: 0.3, agree: 0.6 },
  };
  it.each(['int8', 'q4'] as const)('%s logits stay within the stated bound of the reference, and greedy mostly agrees', async (format) => {
    const decode = [5, 180, 64];
    const rows = await graphLogits(spec, spec.onnxFiles[format]!, prompt, decode);
    ref.reset();
    const refRows = ref.forward([...prompt, ...decode]);
    let maxDiff = 0;
    let errSq = 0;
    let refSq = 0;
    let agree = 0;
    refRows.forEach((r, s) => {
      r.forEach((v, i) => {
        const d = Math.abs(v - rows[s]![i]!);
        maxDiff = Math.max(maxDiff, d);
        errSq += d * d;
        refSq += v * v;
      });
      if (argmax(r) === argmax(rows[s]!)) agree++;
    });
    const rel = Math.sqrt(errSq / refSq);
    console.log(
      `${slug} ${format}: relative RMS logit error ${rel.toFixed(4)}, max |error| ${maxDiff.toFixed(3)}, argmax agreement ${agree}/${refRows.length}`,
    );
    expect(rel).toBeLessThan(bounds[format].rel);
    expect(agree / refRows.length).toBeGreaterThanOrEqual(bounds[format].agree);
  });
});

describe("the project's float64 references over the converted fp32 file", () => {
  it.each([
    ['llama', { family: 'llama' as const, shape: llamaShape, tied: true }],
    ['gpt2', { family: 'gpt2' as const, shape: gpt2Shape }],
  ])('%s: LlamaReference / Gpt2Reference agree with the checkpoint-side reference within 1e-9', async (slug, ckSpec) => {
    const from = join(root, `ref-${slug}-ckpt`);
    const to = join(root, `ref-${slug}-model`);
    await writeTestCheckpoint({ dir: from, spec: ckSpec, seed: 11 });
    await convertCheckpoint({ from, to, quant: ['fp32'] });
    const { raw, path } = readCheckpointConfig(from);
    const arch = archFromConfig(raw, path);
    const ck = await Checkpoint.open(from);
    const hf = await HfReference.load(ck, arch);
    await ck.close();
    const bytes = readFileSync(join(to, 'onnx', 'model.onnx'));
    const project = arch.family === 'llama' ? new LlamaReference(arch.shape, bytes) : new Gpt2Reference(arch.shape, bytes);
    const a = hf.forward(prompt);
    const b = project.forward(prompt);
    let d = 0;
    a.forEach((row, s) => row.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[s]![i]!)))));
    expect(d).toBeLessThan(1e-9);
  });
});
