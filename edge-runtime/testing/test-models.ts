/** Built models and a plain (unpaged) greedy loop for tests: the standard HF graph with present -> past. */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModelFolder } from '../model/build-model.js';
import type { PresetName } from '../model/presets.js';
import type { ModelSpec } from '../model/model-folder.js';

/** Builds (once per machine, cached in the temp dir) a model folder for tests. */
export async function testModel(preset: PresetName = 'tiny-llama', seed = 1): Promise<string> {
  const dir = join(tmpdir(), 'switchyard-test-models', `${preset}-seed${seed}-v1`);
  if (!existsSync(join(dir, 'config.json'))) await buildModelFolder({ preset, seed, outDir: dir });
  return dir;
}

/** Greedy decoding with the unmodified graph, one sequence, growing past tensors: the yardstick for the engine. */
export async function plainGreedy(
  session: ort.InferenceSession,
  spec: ModelSpec,
  prompt: number[],
  steps: number,
): Promise<{ tokens: number[]; firstLogits: Float32Array }> {
  const L = spec.layers;
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < L; l++) {
    past[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, spec.kvHeads, 0, spec.headDim]);
    past[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, spec.kvHeads, 0, spec.headDim]);
  }
  const out: number[] = [];
  let input = prompt;
  let pos = 0;
  let firstLogits = new Float32Array(0);
  for (let s = 0; s < steps; s++) {
    const S = input.length;
    const r = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(input.map(BigInt)), [1, S]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + S).fill(1n), [1, pos + S]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(input.map((_, i) => BigInt(pos + i))), [1, S]),
      ...past,
    });
    const logits = r['logits']!.data as Float32Array;
    const V = spec.vocab;
    const row = logits.subarray((S - 1) * V, S * V);
    if (s === 0) firstLogits = Float32Array.from(row);
    let best = 0;
    for (let i = 1; i < V; i++) if (row[i]! > row[best]!) best = i;
    out.push(best);
    past = {};
    for (let l = 0; l < L; l++) {
      past[`past_key_values.${l}.key`] = r[`present.${l}.key`]!;
      past[`past_key_values.${l}.value`] = r[`present.${l}.value`]!;
    }
    pos += S;
    input = [best];
  }
  return { tokens: out, firstLogits };
}
