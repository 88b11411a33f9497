/**
 * A deep quantized model is served on the paged path. With int8 activations inside MatMulNBits (accuracy_level 4,
 * what convert writes), the paged graph's logits differ from the unmodified graph's by rounding flips that grow with
 * depth (~4e-3 of max |logit| at 8 layers here); held to that graph the proof rejected the paged path and the model
 * ran on the ~2x slower assembled one. The rewrite does not depend on the accuracy level, so the engine proves it on
 * the fp32-activation twin (accuracy_level 0) at the exact bar, 1e-4 of max |logit|, and serves the file as shipped.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convertCheckpoint } from './convert.js';
import { engineFor, engineGreedy } from './engine-greedy.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-q-paged-'));
const to = join(root, 'model');
afterAll(() => rm(root, { recursive: true, force: true }));

beforeAll(async () => {
  const shape = { hidden: 512, layers: 8, heads: 8, kvHeads: 4, headDim: 64, intermediate: 1536, maxPositions: 256, ropeTheta: 10000, rmsEps: 1e-5 };
  const from = join(root, 'ckpt');
  await writeTestCheckpoint({ dir: from, spec: { family: 'llama', shape, merges: 500 }, dtype: 'BF16', seed: 3 });
  await convertCheckpoint({ from, to, quant: ['q4'] });
}, 180_000);

it('q4 at accuracy level 4, 8 layers: paged path proven at load, and it generates', { timeout: 120_000 }, async () => {
  const e = await engineFor(to, 'q4', 8 << 20, 1);
  expect(e.load.path, e.load.pathReason).toBe('paged');
  expect(e.load.pathReason).toMatch(/proven at load on its fp32-activation twin/);
  expect(e.load.proofMaxDiff!).toBeLessThanOrEqual(1e-4);
  const [ids] = await engineGreedy(e, [[5, 6, 7, 8, 9]], 8);
  expect(ids).toHaveLength(8);
});
