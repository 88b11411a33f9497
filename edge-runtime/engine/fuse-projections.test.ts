/**
 * Fusing MatMulNBits over one activation (q/k/v, gate/up) computes what the unfused graph computes: logits and every
 * present K/V compared on real onnxruntime sessions, on models built by our own code (our Llama graph at both accuracy
 * levels, the ORT-fused GroupQueryAttention style) and on a hand-built pair with zero points (as ORT's quantizer writes
 * them). The runner serves the fused graph on the paged path, proven at load.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { onnx } from '../graph/onnx.js';
import { GraphBuilder } from '../graph/graph-builder.js';
import { buildLlamaGraph } from '../graph/llama-graph.js';
import { buildOrtFusedLlama } from '../graph/ort-fused-llama.js';
import { randomLlamaWeights, seededRandom, type LlamaShape } from '../graph/llama-weights.js';
import { quantizeRowsBlockwise } from '../graph/quantize.js';
import { PRESETS } from '../model/presets.js';
import { fuseSharedInputProjections } from './fuse-projections.js';
import { PagedModelRunner } from './model-runner.js';

const shape: LlamaShape = { ...PRESETS['tiny-llama'].shape, vocab: 300 };
const weights = randomLlamaWeights(shape, 7);

function fused(bytes: Uint8Array): { bytes: Uint8Array; groups: number; before: number; after: number } {
  const model = onnx.ModelProto.decode(bytes);
  const r = fuseSharedInputProjections(model);
  return { bytes: onnx.ModelProto.encode(model).finish(), groups: r.groups, before: r.nodesBefore, after: r.nodesAfter };
}

/** Prefill a batch of two (the second left-padded), then one decode step through present -> past. */
async function outputs(bytes: Uint8Array): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const { layers, kvHeads, headDim } = shape;
  const got: Record<string, Float32Array> = {};
  const S = 9;
  const ids = BigInt64Array.from({ length: 2 * S }, (_, i) => BigInt((i * 37 + 5) % shape.vocab));
  const mask = BigInt64Array.from({ length: 2 * S }, (_, i) => (i >= S && i < S + 3 ? 0n : 1n));
  const pos = BigInt64Array.from({ length: 2 * S }, (_, i) => BigInt(i < S ? i : Math.max(0, i - S - 3)));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [2, S]),
    attention_mask: new ort.Tensor('int64', mask, [2, S]),
    position_ids: new ort.Tensor('int64', pos, [2, S]),
  };
  for (let l = 0; l < layers; l++)
    for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [2, kvHeads, 0, headDim]);
  // The GQA style refuses batch > 1 with several tokens only when a past is given; here the past is empty.
  const r1 = await session.run(feeds);
  const next: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from([11n, 12n]), [2, 1]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from([...mask.subarray(0, S), 1n, ...mask.subarray(S), 1n]), [2, S + 1]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from([BigInt(S), BigInt(S - 3)]), [2, 1]),
  };
  for (let l = 0; l < layers; l++) for (const kv of ['key', 'value']) next[`past_key_values.${l}.${kv}`] = r1[`present.${l}.${kv}`]!;
  const r2 = await session.run(next);
  for (const [step, r] of [
    ['prefill', r1],
    ['decode', r2],
  ] as const) {
    for (const [name, t] of Object.entries(r)) got[`${step} ${name}`] = Float32Array.from(t.data as Float32Array);
  }
  await session.release();
  return got;
}

function maxDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  let d = 0;
  for (const [k, x] of Object.entries(a)) {
    const y = b[k]!;
    expect(y.length).toBe(x.length);
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

describe('fusing MatMulNBits over one activation', () => {
  for (const accuracyLevel of [0, 4]) {
    it(`our q4 Llama graph (accuracy level ${accuracyLevel}): q/k/v and gate/up fused per layer, outputs equal`, async () => {
      const plain = buildLlamaGraph(shape, weights, { format: 'q4', accuracyLevel });
      const f = fused(plain);
      expect(f.groups).toBe(2 * shape.layers);
      // 7 projections per layer + the LM head -> q/k/v, o, gate/up, down per layer + the LM head.
      expect(f.before).toBe(7 * shape.layers + 1);
      expect(f.after).toBe(4 * shape.layers + 1);
      // The unfused weights are not kept beside the fused ones.
      const names = onnx.ModelProto.decode(f.bytes).graph!.initializer!.map((t) => t.name);
      expect(names.some((n) => /q_proj\.q4$/.test(n ?? ''))).toBe(false);
      expect(maxDiff(await outputs(plain), await outputs(f.bytes))).toBeLessThanOrEqual(1e-5);
    });
  }

  it('the ORT-fused GroupQueryAttention style: outputs equal', async () => {
    const plain = buildOrtFusedLlama(shape, weights, { format: 'q4' });
    const f = fused(plain);
    expect(f.groups).toBe(2 * shape.layers);
    expect(maxDiff(await outputs(plain), await outputs(f.bytes))).toBeLessThanOrEqual(1e-5);
  });

  it('projections with packed uint8 zero points (as ORT quantizer exports carry them): outputs equal', async () => {
    const K = 64;
    const Ns = [48, 80, 16];
    const blocks = K / 32;
    const rand = seededRandom(3);
    const g = new GraphBuilder('zp');
    const x = g.input('x', 'float32', ['batch', 'seq', K]);
    for (const [i, N] of Ns.entries()) {
      const rows = Float32Array.from({ length: N * K }, () => rand() - 0.5);
      const { packed, scales } = quantizeRowsBlockwise(rows, N, K, 4);
      // Two 4-bit zero points a byte along each row's blocks (one byte per row here), values 6..9.
      const zp = Uint8Array.from({ length: N }, (_, n) => (6 + (n % 4)) | ((9 - (n % 3)) << 4));
      const y = g.o(
        'MatMulNBits',
        [
          x,
          g.raw(`w${i}.q4`, onnx.TensorProto.DataType.UINT8, [N, blocks, 16], packed),
          g.float(`w${i}.scales`, [N * blocks], scales),
          g.raw(`w${i}.zp`, onnx.TensorProto.DataType.UINT8, [N], zp),
        ],
        { K, N, bits: 4, block_size: 32, accuracy_level: 0 },
        `y${i}`,
        'com.microsoft',
      );
      g.output(y, 'float32', ['batch', 'seq', N]);
    }
    const plain = g.encode();
    const f = fused(plain);
    expect(f.groups).toBe(1);
    expect(f.after).toBe(1);
    const X = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * 3 * K }, () => rand() - 0.5),
      [2, 3, K],
    );
    const run = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const r = await s.run({ x: X });
      await s.release();
      return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]));
    };
    expect(maxDiff(await run(plain), await run(f.bytes))).toBeLessThanOrEqual(1e-5);
  });

  it('the runner serves the fused graph on the paged path, proven at load; fuseProjections: false keeps it unfused', async () => {
    const bytes = buildLlamaGraph(shape, weights, { format: 'q4', accuracyLevel: 4 });
    const layout = { layers: shape.layers, kvHeads: shape.kvHeads, headDim: shape.headDim, blockSize: 4, numBlocks: 24 };
    const on = await PagedModelRunner.create(bytes, { layout, vocabSize: shape.vocab, threads: 1 });
    const off = await PagedModelRunner.create(bytes, { layout, vocabSize: shape.vocab, threads: 1, fuseProjections: false });
    try {
      expect(on.path.mode).toBe('paged');
      expect(on.info!.fusedProjections).toBe(2 * shape.layers);
      expect(on.path.reason).toMatch(/4 projection groups fused, proven at load/);
      expect(on.path.proof!.maxDiff).toBeLessThanOrEqual(1e-4);
      expect(off.path.mode).toBe('paged');
      expect(off.info!.fusedProjections).toBe(0);
      // Same logits on both (int8 activations included: the activation is quantized once either way).
      const entry = { tokens: [5, 9, 14, 200, 3, 77], startPos: 0, blockTable: [0, 1, 2] };
      const [a] = await on.forward([entry]);
      const [b] = await off.forward([entry]);
      let d = 0;
      for (let i = 0; i < a!.length; i++) d = Math.max(d, Math.abs(a![i]! - b![i]!));
      expect(d).toBeLessThanOrEqual(1e-5);
    } finally {
      await on.release();
      await off.release();
    }
  });
});
