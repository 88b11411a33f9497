/** The GPT-2-family graph against its float64 reference, and the paged engine and transformers.js on the same folder. */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { Gpt2Reference } from '../reference/gpt2-reference.js';
import { loadModelFolder, type ModelSpec } from '../model/model-folder.js';
import { PRESETS } from '../model/presets.js';
import { plainGreedy, testModel } from '../testing/test-models.js';
import { createEngine } from '../worker/create-engine.js';
import { engineOptionsSchema } from '../engine/engine-options.js';

let dir: string;
let spec: ModelSpec;
let bytes: Uint8Array;

beforeAll(async () => {
  dir = await testModel('tiny-gpt2', 1);
  spec = loadModelFolder(dir);
  bytes = readFileSync(spec.onnxFiles.fp32!);
});

describe('gpt2 graph', () => {
  it('loads as the gpt2 family', () => {
    expect(spec.family).toBe('gpt2');
    expect(spec.kvHeads).toBe(4);
    expect(spec.headDim).toBe(16);
  });

  it('matches the float64 reference: prefill logits within 1e-4, cached decode on the same argmax', async () => {
    const session = await ort.InferenceSession.create(bytes);
    const ref = new Gpt2Reference({ ...PRESETS['tiny-gpt2'].shape, vocab: spec.vocab }, bytes);
    const prompt = [10, 200, 33, 7, 99, 150, 3, 41, 256, 12];
    const refRows = ref.forward(prompt);
    const { firstLogits } = await plainGreedy(session, spec, prompt, 1);
    let d = 0;
    refRows[prompt.length - 1]!.forEach((v, i) => (d = Math.max(d, Math.abs(v - firstLogits[i]!))));
    expect(d).toBeLessThan(1e-4);
    // Cached decode: greedy continuation through present -> past against the reference fed the same tokens.
    const { tokens } = await plainGreedy(session, spec, prompt, 4);
    const rows = ref.forward(tokens.slice(0, 3));
    rows.forEach((row, i) => {
      let best = 0;
      row.forEach((v, j) => (best = v > row[best]! ? j : best));
      expect(best).toBe(tokens[i + 1]);
    });
  });

  it('the paged engine reproduces plain greedy decoding, alone and batched', async () => {
    const e = await createEngine(
      engineOptionsSchema.parse({ modelDir: dir, modelId: 'g', variant: 'fp32', kvBudgetBytes: 8 << 20, maxBatchedTokens: 32 }),
    );
    const session = await ort.InferenceSession.create(bytes);
    const prompts = [5, 23, 40, 70].map((len, k) => Array.from({ length: len }, (_, i) => (i * 13 + k * 7) % 256));
    const got = new Map<number, number[]>();
    let idx = 0;
    const orig = e.tokenizer.newSink.bind(e.tokenizer);
    e.tokenizer.newSink = (stop) => {
      const mine: number[] = [];
      got.set(idx++, mine);
      const sink = orig(stop);
      return { push: (t) => (mine.push(t), sink.push(t)), flush: () => sink.flush() };
    };
    prompts.forEach((p, k) =>
      e.core.submit(
        {
          id: `g${k}`,
          input: { kind: 'tokens', ids: p },
          sampling: { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 },
          maxTokens: 16,
          stop: [],
          n: 1,
        },
        () => undefined,
      ),
    );
    while (e.core.hasWork()) await e.core.step();
    for (const [k, p] of prompts.entries()) {
      const ref = await plainGreedy(session, spec, p, 16);
      const mine = got.get(k)!;
      expect(mine).toEqual(ref.tokens.slice(0, mine.length));
    }
  });

  it('transformers.js generates the same greedy ids from the same folder', async () => {
    env.allowRemoteModels = false;
    env.localModelPath = `${dirname(dir)}/`;
    const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype: 'fp32' });
    const session = await ort.InferenceSession.create(bytes);
    for (const prompt of [
      [1, 2, 3, 4],
      [100, 90, 80, 70, 60, 50, 40, 30, 20],
    ]) {
      const out = (await model.generate({
        input_ids: new Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]),
        max_new_tokens: 32,
        do_sample: false,
        eos_token_id: -1,
      })) as Tensor;
      const theirs = Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
      const ref = await plainGreedy(session, spec, prompt, 32);
      expect(theirs).toEqual(ref.tokens);
    }
  });
});
