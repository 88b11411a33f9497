/**
 * A q4 file whose MatMulNBits compute with int8 activations (accuracy_level 4, the fastest on CPU) is served on the
 * paged path. Proving the rewrite on the int8 graph itself compared quantization noise (~1e-2 of max |logit|), not the
 * rewrite: the paged path was rejected and such files ran ~3x slower on the assembled fallback (docs/ARCHITECTURE.md,
 * "Edge throughput: the decode-step profile").
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModelFolder } from '../model/build-model.js';
import { createEngine } from '../worker/create-engine.js';
import { engineOptionsSchema } from './engine-options.js';

describe('int8-activation q4 files', () => {
  it('are proven on their fp32-activation twin and served paged', async () => {
    // bench-50m (q4 only, ~90 MB, built once): its logits are large enough for int8 noise to exceed the old 2e-3
    // relative bar (8e-3 measured); small test models stay under it and passed either way.
    const dir = join(tmpdir(), 'switchyard-test-models', 'bench-50m-seed1-q4-acc4-v1');
    if (!existsSync(join(dir, 'config.json')))
      await buildModelFolder({ preset: 'bench-50m', seed: 1, outDir: dir, variants: ['q4'], accuracyLevel: 4 });
    const e = await createEngine(engineOptionsSchema.parse({ modelDir: dir, modelId: 'acc4', variant: 'q4', threads: 1 }));
    try {
      expect(e.load.path, e.load.pathReason).toBe('paged');
      expect(e.load.pathReason).toMatch(/fp32-activation twin/);
      // The twin's proof is held to the exact bar, not a loosened one.
      expect(e.load.proofMaxDiff!).toBeLessThanOrEqual(1e-4);
    } finally {
      await e.runner.release();
    }
  }, 180_000);
});
