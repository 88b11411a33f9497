/** Side by side with transformers.js loading the very same built folder (remote models off): same greedy ids, same logits. */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolder, type ModelSpec } from './model-folder.js';
import { plainGreedy, testModel } from '../testing/test-models.js';
import { createEngine } from '../worker/create-engine.js';
import { engineOptionsSchema } from '../engine/engine-options.js';

let dir: string;
let spec: ModelSpec;

const prompts = [
  [10, 20, 30, 40, 50, 60, 70],
  [1, 2, 3],
  Array.from({ length: 40 }, (_, i) => (i * 29 + 5) % 256),
  [200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216],
];

beforeAll(async () => {
  dir = await testModel('tiny-llama', 1);
  spec = loadModelFolder(dir);
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(dir)}/`;
});

describe('transformers.js on the same folder', () => {
  it('greedy generation of 32 tokens gives identical ids to the engine for several prompts', async () => {
    const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: 'fp32' });
    const e = await createEngine(engineOptionsSchema.parse({ modelDir: dir, modelId: 'tiny', variant: 'fp32', kvBudgetBytes: 8 << 20 }));
    for (const prompt of prompts) {
      const ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
      const out = (await model.generate({ input_ids: ids, max_new_tokens: 32, do_sample: false, eos_token_id: -1 })) as Tensor;
      const theirs = Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
      const ours: number[] = [];
      const origNewSink = e.tokenizer.newSink.bind(e.tokenizer);
      e.tokenizer.newSink = (stop) => {
        const sink = origNewSink(stop);
        return { push: (t) => (ours.push(t), sink.push(t)), flush: () => sink.flush() };
      };
      e.core.submit(
        {
          id: `p${prompt.length}`,
          input: { kind: 'tokens', ids: prompt },
          sampling: { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 },
          maxTokens: 32,
          stop: [],
          n: 1,
        },
        () => undefined,
      );
      while (e.core.hasWork()) await e.core.step();
      // The engine stops at EOS; transformers.js was told not to: compare what both produced.
      expect(theirs.slice(0, ours.length)).toEqual(ours);
      expect(ours.length).toBeGreaterThan(0);
    }
  });

  it('first-step logits agree within 1e-4', async () => {
    const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: 'fp32' });
    const session = await ort.InferenceSession.create(readFileSync(spec.onnxFiles.fp32!));
    for (const prompt of prompts) {
      const ids = new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
      const mask = new Tensor('int64', new BigInt64Array(prompt.length).fill(1n), [1, prompt.length]);
      const out = (await model({ input_ids: ids, attention_mask: mask })) as { logits: Tensor };
      const data = out.logits.data as Float32Array;
      const last = data.subarray((prompt.length - 1) * spec.vocab, prompt.length * spec.vocab);
      const ref = await plainGreedy(session, spec, prompt, 1);
      let d = 0;
      for (let i = 0; i < spec.vocab; i++) d = Math.max(d, Math.abs(last[i]! - ref.firstLogits[i]!));
      expect(d).toBeLessThan(1e-4);
    }
  });
});
