/**
 * A BERT-style encoder as ONNX, wired as Hugging Face/Optimum feature-extraction exports are: inputs `input_ids`,
 * `attention_mask` (and `token_type_ids` when the model has token types), output `last_hidden_state` [B, S, D];
 * optionally `sentence_embedding` [B, D] (masked mean, L2-normalised), as sentence-transformers exports add.
 */
import { GraphBuilder } from '../graph/graph-builder.js';
import type { EncoderWeights } from './encoder-weights.js';

export interface EncoderGraphOptions {
  /** Add the pooled, normalised `sentence_embedding` output. */
  sentenceEmbedding?: boolean;
}

export function buildEncoderGraph(w: EncoderWeights, opts: EncoderGraphOptions = {}): Uint8Array {
  const s = w.shape;
  const d = s.hidden;
  const dh = d / s.heads;
  if (!Number.isInteger(dh)) throw new Error(`hidden ${d} is not a multiple of heads ${s.heads}`);
  const g = new GraphBuilder('switchyard-encoder');
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
  const types = s.typeVocab > 0 ? g.input('token_type_ids', 'int64', ['batch', 'sequence']) : undefined;

  const zero = g.int64Scalar('zero', 0);
  const one = g.int64Scalar('one', 1);
  const seqLen = g.o('Gather', [g.o('Shape', [ids]), one], { axis: 0 });
  const positions = g.o('Range', [zero, seqLen, one]);
  let x = g.o('Gather', [g.float('embeddings.word', [s.vocab, d], w.wordEmbeddings), ids], { axis: 0 });
  x = g.o('Add', [x, g.o('Gather', [g.float('embeddings.position', [s.maxPositions, d], w.positionEmbeddings), positions], { axis: 0 })]);
  if (types) x = g.o('Add', [x, g.o('Gather', [g.float('embeddings.token_type', [s.typeVocab, d], w.typeEmbeddings), types], { axis: 0 })]);
  const eps = { float: s.eps };
  const layerNorm = (v: string, gain: Float32Array, bias: Float32Array, name: string) =>
    g.o('LayerNormalization', [v, g.float(`${name}.weight`, [d], gain), g.float(`${name}.bias`, [d], bias)], { axis: -1, epsilon: eps });
  if (s.embeddingNorm) x = layerNorm(x, w.embNormGain, w.embNormBias, 'embeddings.norm');

  // Additive attention mask [B, 1, 1, S]: 0 where attended, -10000 on padding (BERT's constant).
  const maskF = g.o('Cast', [mask], { to: 1 });
  const maskBias = g.o('Unsqueeze', [
    g.o('Mul', [g.o('Sub', [g.floatScalar('one_f', 1), maskF]), g.floatScalar('mask_neg', -10000)]),
    g.int64('mask_axes', [1, 2]),
  ]);
  const linear = (v: string, weight: Float32Array, bias: Float32Array, inDim: number, outDim: number, name: string) =>
    g.o('Add', [g.o('MatMul', [v, g.float(`${name}.weight`, [inDim, outDim], weight)]), g.float(`${name}.bias`, [outDim], bias)]);

  w.layers.forEach((l, i) => {
    const p = `layer.${i}`;
    // Constants per layer: a graph without layers (the bench's bag-of-words encoder) then carries no unused ones.
    const heads = g.int64(`${p}.heads_shape`, [0, 0, s.heads, dh]);
    const merged = g.int64(`${p}.merged_shape`, [0, 0, d]);
    const scale = g.floatScalar(`${p}.attn_scale`, 1 / Math.sqrt(dh));
    const half = g.floatScalar(`${p}.half`, 0.5);
    const invSqrt2 = g.floatScalar(`${p}.inv_sqrt2`, Math.SQRT1_2);
    const split = (v: string, perm: number[]) => g.o('Transpose', [g.o('Reshape', [v, heads])], { perm });
    const q = split(linear(x, l.q, l.qBias, d, d, `${p}.query`), [0, 2, 1, 3]);
    const k = split(linear(x, l.k, l.kBias, d, d, `${p}.key`), [0, 2, 3, 1]);
    const v = split(linear(x, l.v, l.vBias, d, d, `${p}.value`), [0, 2, 1, 3]);
    const scores = g.o('Add', [g.o('Mul', [g.o('MatMul', [q, k]), scale]), maskBias]);
    const ctx = g.o('MatMul', [g.o('Softmax', [scores], { axis: -1 }), v]);
    const ctxMerged = g.o('Reshape', [g.o('Transpose', [ctx], { perm: [0, 2, 1, 3] }), merged]);
    const attn = linear(ctxMerged, l.o, l.oBias, d, d, `${p}.attention.output`);
    x = layerNorm(g.o('Add', [x, attn]), l.attnNormGain, l.attnNormBias, `${p}.attention.norm`);
    const h = linear(x, l.up, l.upBias, d, s.intermediate, `${p}.intermediate`);
    // Exact GELU (erf form), as BERT uses: 0.5 x (1 + erf(x / sqrt 2)).
    const gelu = g.o('Mul', [g.o('Mul', [h, half]), g.o('Add', [g.floatScalar(`${p}.one`, 1), g.o('Erf', [g.o('Mul', [h, invSqrt2])])])]);
    const f = linear(gelu, l.down, l.downBias, s.intermediate, d, `${p}.output`);
    x = layerNorm(g.o('Add', [x, f]), l.ffnNormGain, l.ffnNormBias, `${p}.output.norm`);
  });
  g.o('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch', 'sequence', d]);

  if (opts.sentenceEmbedding) {
    const m3 = g.o('Unsqueeze', [maskF, g.int64('pool_axes', [2])]);
    const summed = g.o('ReduceSum', [g.o('Mul', [x, m3]), g.int64('seq_axis', [1])], { keepdims: 0 });
    const count = g.o('Max', [g.o('ReduceSum', [maskF, g.int64('seq_axis2', [1])], { keepdims: 1 }), g.floatScalar('min_count', 1e-9)]);
    const mean = g.o('Div', [summed, count]);
    const norm = g.o('Max', [g.o('ReduceL2', [mean], { axes: [1], keepdims: 1 }), g.floatScalar('min_norm', 1e-12)]);
    g.o('Div', [mean, norm], {}, 'sentence_embedding');
    g.output('sentence_embedding', 'float32', ['batch', d]);
  }
  return g.encode();
}
