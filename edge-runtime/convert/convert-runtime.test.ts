/**
 * A converted folder in the runtimes that serve it: transformers.js loads the standard layout and generates the same
 * greedy ids as the engine; the quantized variants keep rows batch-independent (a row's logits alone equal its logits
 * in a batch of mixed neighbours), which continuous batching relies on.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from './convert.js';
import { engineFor, engineGreedy } from './engine-greedy.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-convert-rt-'));
const to = join(root, 'qwen2-model');
afterAll(() => rm(root, { recursive: true, force: true }));

const shape = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 256, ropeTheta: 10000, rmsEps: 1e-5 };
const prompts = [[10, 20, 30, 40, 50, 60, 70], [1, 2, 3], Array.from({ length: 40 }, (_, i) => (i * 29 + 5) % 256)];

beforeAll(async () => {
  const from = join(root, 'qwen2-ckpt');
  await writeTestCheckpoint({ dir: from, spec: { family: 'qwen2', shape, biases: true, tied: true }, dtype: 'BF16', shards: 2, seed: 5 });
  await convertCheckpoint({ from, to, quant: ['fp32', 'int8', 'q4'] });
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(to)}/`;
});

describe('converted folder in the runtimes', () => {
  it.each([
    ['fp32', 'fp32'],
    ['q4', 'q4'],
  ] as const)('transformers.js (%s) generates the same greedy ids as the engine', async (variant, dtype) => {
    const model = await AutoModelForCausalLM.from_pretrained(basename(to), { dtype });
    const e = await engineFor(to, variant);
    const ours = await engineGreedy(e, prompts, 24);
    for (const [i, prompt] of prompts.entries()) {
      const ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
      const out = (await model.generate({ input_ids: ids, max_new_tokens: 24, do_sample: false, eos_token_id: -1 })) as Tensor;
      const theirs = Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
      expect(ours[i]!.length).toBeGreaterThan(0);
      expect(theirs.slice(0, ours[i]!.length)).toEqual(ours[i]);
    }
  });

  it.each(['int8', 'q4'] as const)('%s rows are batch-independent: logits alone equal logits among batch neighbours', async (variant) => {
    const e = await engineFor(to, variant);
    const entry = (tokens: number[], firstBlock: number) => ({
      tokens,
      startPos: 0,
      blockTable: Array.from({ length: Math.ceil(tokens.length / 16) }, (_, b) => firstBlock + b),
    });
    const [alone] = await e.runner.forward([entry([7], 0)]);
    const batch = await e.runner.forward([entry([200], 4), entry([7], 8), entry([33], 12)]);
    let d = 0;
    for (let i = 0; i < alone!.length; i++) d = Math.max(d, Math.abs(alone![i]! - batch[1]![i]!));
    expect(d).toBe(0);
  });
});
