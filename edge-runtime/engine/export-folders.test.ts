/**
 * Folders in the styles users bring (torch.onnx.export of HF eager Llama / GPT-2, Optimum names; ORT-fused Llama as
 * the transformer optimizer / onnxruntime-genai write it), served with no
 * option but the folder: the variant is chosen automatically, the paged rewrite is proven at load (or a proven
 * unpaged path serves), and greedy output equals transformers.js on the same folder, alone, batched, with prefix hits
 * and after preemption. Also: fp16 weights, external data, and an export the rewrite cannot serve.
 */
import { basename, dirname, join } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, bytesPerBlock, type CreatedEngine } from '../worker/create-engine.js';
import { engineOptionsSchema } from './engine-options.js';
import { loadModelFolder } from '../model/model-folder.js';
import { exportTestModel } from '../model/export-fixtures.js';
import { loadOnnxFile } from '../model/load-onnx.js';

const greedy = { temperature: 0, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };
const NEW = 16;
const prompts = [
  [10, 20, 30, 40, 50, 60, 70],
  [1, 2, 3],
  Array.from({ length: 40 }, (_, i) => (i * 29 + 5) % 256),
  [200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216],
];

type Dtype = 'fp32' | 'fp16' | 'q4' | 'q8' | 'q4f16';

/** transformers.js greedy continuation of each prompt, one at a time (it runs the folder's graph unmodified). */
async function theirs(dir: string, dtype: Dtype, extra: Record<string, unknown> = {}): Promise<number[][]> {
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(dir)}/`;
  const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { dtype, ...extra });
  const out: number[][] = [];
  for (const p of prompts) {
    const ids = new Tensor('int64', BigInt64Array.from(p.map(BigInt)), [1, p.length]);
    const r = (await model.generate({ input_ids: ids, max_new_tokens: NEW, do_sample: false, eos_token_id: -1 })) as Tensor;
    out.push(Array.from(r.data as BigInt64Array, Number).slice(p.length));
  }
  await model.dispose();
  return out;
}

async function engine(dir: string, variant: string, blocks?: number, maxBatchedTokens = 24): Promise<CreatedEngine> {
  const spec = loadModelFolder(dir);
  const kvBudgetBytes = blocks ? blocks * bytesPerBlock(spec.layers, spec.kvHeads, spec.headDim, 16) : 8 << 20;
  return createEngine(engineOptionsSchema.parse({ modelDir: dir, modelId: 'm', variant, kvBudgetBytes, maxBatchedTokens }));
}

/** The engine's greedy tokens per prompt; `together` submits all before stepping (one batch), else one by one. */
async function ours(e: CreatedEngine, together: boolean): Promise<number[][]> {
  const got: number[][] = prompts.map(() => []);
  let current = 0;
  const orig = e.tokenizer.newSink.bind(e.tokenizer);
  e.tokenizer.newSink = (stop) => {
    const mine = got[current]!;
    const sink = orig(stop);
    return { push: (t) => (mine.push(t), sink.push(t)), flush: () => sink.flush() };
  };
  const submit = (i: number) => {
    current = i;
    e.core.submit(
      { id: `r${i}-${Math.random()}`, input: { kind: 'tokens', ids: prompts[i]! }, sampling: greedy, maxTokens: NEW, stop: [], n: 1 },
      () => undefined,
    );
  };
  if (together) {
    prompts.forEach((_, i) => submit(i));
    while (e.core.hasWork()) await e.core.step();
  } else {
    for (let i = 0; i < prompts.length; i++) {
      submit(i);
      while (e.core.hasWork()) await e.core.step();
    }
  }
  e.tokenizer.newSink = orig;
  return got;
}

/** The engine stops at EOS; transformers.js was told not to: the engine's tokens must be a prefix ending at EOS. */
function expectSame(mine: number[][], ref: number[][], eos: number[]): void {
  mine.forEach((m, i) => {
    expect(m.length).toBeGreaterThan(0);
    expect(ref[i]!.slice(0, m.length)).toEqual(m);
    if (m.length < NEW) expect(eos).toContain(ref[i]![m.length]);
  });
}

describe.each([
  ['HF-export llama', 'tiny-llama', 'hf-export'],
  ['HF-export gpt2', 'tiny-gpt2', 'hf-export'],
  ['ORT-fused llama (GroupQueryAttention, RotaryEmbedding, SkipSimplifiedLayerNormalization, MatMulNBits)', 'tiny-llama', 'ort-fused'],
  ['ORT-fused gpt2 (MultiHeadAttention, SkipLayerNormalization, FastGelu, MatMulNBits)', 'tiny-gpt2', 'ort-fused'],
] as const)('%s folder', (_name, preset, style) => {
  let dir: string;
  beforeAll(async () => {
    dir = await exportTestModel({ preset, style, seed: 3, variants: ['fp32', 'q4'] });
  });

  it('is served on the paged path (the rewrite proven at load), with variant auto picking model_q4.onnx', async () => {
    const e = await engine(dir, 'auto');
    expect(e.load.variant).toBe('q4');
    expect(e.load.path).toBe('paged');
    expect(e.load.proofMaxDiff).toBeLessThan(1e-4);
    // torch exports read the past length with Shape(past_key_values.0.key), fused graphs hand the past to
    // GroupQueryAttention: those consumers now read the gathered past.
    expect(e.runner.info!.otherPastConsumers).toBeGreaterThan(0);
    // GQA puts each row's new K/V after its own past; MHA's present is past ++ new (its tail is the new K/V).
    if (style === 'ort-fused') expect(preset === 'tiny-llama' ? e.runner.info!.rowAligned : e.runner.info!.slicedPresent).toBe(4);
    const ops = (await loadOnnxFile(join(dir, 'onnx', 'model_q4.onnx'))).ops;
    if (style === 'ort-fused' && preset === 'tiny-llama') {
      expect(ops).toMatchObject({
        'com.microsoft.GroupQueryAttention': 2,
        'com.microsoft.RotaryEmbedding': 4,
        'com.microsoft.GatherBlockQuantized': 1,
      });
      expect(ops['com.microsoft.SkipSimplifiedLayerNormalization']).toBeGreaterThan(0);
    }
    // torch.onnx.export style: Constant nodes for literals, Shape reads, and (Llama) the Trilu/ScatterND mask.
    if (style === 'hf-export') expect(ops['Constant']).toBeGreaterThan(50);
    if (style === 'hf-export' && preset === 'tiny-llama') expect(ops).toMatchObject({ Trilu: 1, ScatterND: 1 });
    await e.runner.release();
  });

  it.each(['fp32', 'q4'] as const)('%s: greedy equals transformers.js alone, batched, with prefix hits and after preemption', async (v) => {
    const ref = await theirs(dir, v);
    const e = await engine(dir, v);
    const eos = [...e.tokenizer.eosIds];
    expectSame(await ours(e, false), ref, eos);
    expectSame(await ours(e, true), ref, eos);
    expect(e.core.stats().prefixHitRate).toBeGreaterThan(0);
    await e.runner.release();
    // 7 blocks of 16 slots for four requests needing 2 + 2 + 4 + 3 blocks.
    const small = await engine(dir, v, 7);
    expectSame(await ours(small, true), ref, eos);
    expect(small.core.stats().preempted).toBeGreaterThan(0);
    await small.runner.release();
  });
});

describe.each([
  ['hf-export', 'qwen2'],
  ['hf-export', 'mistral'],
  ['hf-export', 'phi3'],
  ['ort-fused', 'phi3'],
] as const)('%s %s folder (q/k/v biases; Llama graph; fused qkv_proj/gate_up_proj; packed-QKV GQA with rotary inside)', (style, architecture) => {
  it('is served paged and its greedy output equals transformers.js, alone and batched', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', style, seed: 7, variants: ['fp32'], architecture });
    const e = await engine(dir, 'auto');
    expect(e.load.path).toBe('paged');
    const ref = await theirs(dir, 'fp32');
    const eos = [...e.tokenizer.eosIds];
    expectSame(await ours(e, false), ref, eos);
    expectSame(await ours(e, true), ref, eos);
    await e.runner.release();
  });
});

describe('folders with one variant', () => {
  it('fp16 weights only: auto picks model_fp16.onnx, upcast at load, greedy equals transformers.js', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', seed: 4, variants: ['fp16'] });
    const e = await engine(dir, 'auto');
    expect(e.load.variant).toBe('fp16');
    expect(e.load.fp16Upcast).toBe(true);
    expect(e.load.path).toBe('paged');
    const ref = await theirs(dir, 'fp16');
    expectSame(await ours(e, true), ref, [...e.tokenizer.eosIds]);
    await e.runner.release();
  });

  it('an explicit variant that is missing names the files present and the flag', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', seed: 4, variants: ['fp16'] });
    await expect(engine(dir, 'q4')).rejects.toThrow(/model_q4\.onnx: missing; this folder has model_fp16\.onnx; use --variant fp16/);
  });

  it('external data (model.onnx + model.onnx_data) only: auto picks model.onnx, greedy equals transformers.js', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', seed: 5, variants: ['fp32'], externalData: true });
    const e = await engine(dir, 'auto');
    expect(e.load.variant).toBe('fp32');
    expect(e.load.externalData).toEqual(['model.onnx_data']);
    expect(e.load.path).toBe('paged');
    const ref = await theirs(dir, 'fp32', { use_external_data_format: true });
    expectSame(await ours(e, true), ref, [...e.tokenizer.eosIds]);
    await e.runner.release();
  });
});

describe('weight-only 4-bit with external data', () => {
  it.each(['hf-export', 'ort-fused'] as const)(
    '%s llama: model_q4.onnx + model_q4.onnx_data served paged, equal to transformers.js',
    async (style) => {
      const dir = await exportTestModel({ preset: 'tiny-llama', style, seed: 6, variants: ['q4'], externalData: true });
      const e = await engine(dir, 'auto');
      expect(e.load).toMatchObject({ variant: 'q4', path: 'paged', externalData: ['model_q4.onnx_data'] });
      const ref = await theirs(dir, 'q4', { use_external_data_format: true });
      expectSame(await ours(e, true), ref, [...e.tokenizer.eosIds]);
      await e.runner.release();
    },
  );
});

describe.each(['hf-export', 'ort-fused'] as const)('%s llama in float16 throughout (model_q4f16.onnx, model_fp16.onnx)', (style) => {
  it('auto picks q4f16, both upcast at load and served paged; agreement with transformers.js (fp16 math) is stated', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', style, seed: 3, variants: ['q4f16', 'fp16-full'] });
    const auto = await engine(dir, 'auto');
    expect(auto.load).toMatchObject({ variant: 'q4f16', path: 'paged', fp16Upcast: true });
    await auto.runner.release();
    for (const v of ['q4f16', 'fp16'] as const) {
      const e = await engine(dir, v);
      expect(e.load).toMatchObject({ variant: v, path: 'paged', fp16Upcast: true });
      const ref = await theirs(dir, v);
      const mine = await ours(e, true);
      // The engine computes in float32 on the fp16 weights; transformers.js computes in float16.
      const same = mine.reduce(
        (a, m, i) => a + (m.findIndex((t, j) => t !== ref[i]![j]) === -1 ? m.length : m.findIndex((t, j) => t !== ref[i]![j])),
        0,
      );
      const total = mine.reduce((a, m) => a + m.length, 0);
      console.log(`${style} ${v}: ${same}/${total} greedy tokens agree with transformers.js (fp16 math) before the first divergence`);
      expect(mine.every((m, i) => m[0] === ref[i]![0])).toBe(true);
      await e.runner.release();
    }
  });
});

describe('dynamically quantized (quantize_dynamic style) model_quantized.onnx only', () => {
  it('auto picks it, reports it, proves rows alone; alone equals transformers.js, batched agreement is stated', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', seed: 8, variants: ['int8-dynamic'] });
    // Whole prompts in one chunk: the activation scale of DynamicQuantizeLinear spans the chunk.
    const e = await engine(dir, 'auto', undefined, 512);
    expect(e.load).toMatchObject({ variant: 'int8', path: 'paged', dynamicQuant: true });
    const ref = await theirs(dir, 'q8');
    const eos = [...e.tokenizer.eosIds];
    expectSame(await ours(e, false), ref, eos);
    const batched = await ours(e, true);
    const agree = batched.map((m, i) => m.findIndex((t, j) => t !== ref[i]![j]));
    const same = agree.reduce((a, k, i) => a + (k === -1 ? batched[i]!.length : k), 0);
    const total = batched.reduce((a, m) => a + m.length, 0);
    // Rows depend on their batch neighbours: agreement before the first divergence, stated rather than asserted equal.
    console.log(`dynamic int8, batched of ${prompts.length}: ${same}/${total} tokens agree with transformers.js before the first divergence`);
    expect(batched.every((m, i) => m[0] === ref[i]![0])).toBe(true);
    await e.runner.release();
  });
});

describe('an export the paged rewrite cannot serve', () => {
  it.each(['tiny-llama', 'tiny-gpt2'] as const)(
    '%s deriving positions from the past length: proven unpaged path, identical greedy output alone and batched',
    async (preset) => {
      const dir = await exportTestModel({ preset, seed: 3, variants: ['fp32'], positionIds: false });
      const e = await engine(dir, 'auto');
      expect(e.load.path).toBe('assembled-grouped');
      expect(e.load.pathReason).toMatch(/paged rejected: logits differ/);
      const ref = await theirs(dir, 'fp32');
      const eos = [...e.tokenizer.eosIds];
      expectSame(await ours(e, false), ref, eos);
      expectSame(await ours(e, true), ref, eos);
      await e.runner.release();
    },
  );
});
