/**
 * Writes a Llama-family decoder as a standard HF/Optimum-layout ONNX graph: input_ids, attention_mask, position_ids,
 * past_key_values.{i}.key|value -> logits, present.{i}.key|value, with each layer's K/V path being
 * Concat(past, new, axis=2) so the engine can rewrite it into the paged form.
 */
import { GraphBuilder } from './graph-builder.js';
import { embedding, linear, type LinearOptions } from './linear.js';
import { additiveMask } from './attention-mask.js';
import { ropeTables, type LlamaShape, type LlamaWeights } from './llama-weights.js';

/** Projections that may carry a bias (Qwen2 has q/k/v biases; Llama's attention_bias / mlp_bias add the others). */
export type LlamaBiases = Partial<Record<'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down', Float32Array>>;

/** What a converted checkpoint adds to built weights: biases per layer and rotary tables with rope scaling applied. */
export interface LlamaGraphExtras {
  biases?: LlamaBiases[];
  rope?: { cos: Float32Array; sin: Float32Array };
}

/**
 * `fused`: ORT's fused CPU kernels in place of the plain-op subgraphs: SimplifiedLayerNormalization for RMSNorm and
 * com.microsoft RotaryEmbedding for rotary (fewer nodes per layer; batch-1 decode of a small model is dominated by
 * per-node overhead). The K/V Concat(past, new) pattern the paged rewrite needs is unchanged.
 */
export interface LlamaGraphOptions {
  fused?: boolean;
}

export function buildLlamaGraph(s: LlamaShape, w: LlamaWeights & LlamaGraphExtras, lin: LinearOptions, opts: LlamaGraphOptions = {}): Uint8Array {
  return buildLlamaGraphInto(new GraphBuilder('switchyard-llama'), s, w, lin, opts).encode();
}

/** Adds the graph to `g`: a streaming builder can then write a big model without encoding it whole in memory. */
export function buildLlamaGraphInto<G extends GraphBuilder>(
  g: G,
  s: LlamaShape,
  w: LlamaWeights & LlamaGraphExtras,
  lin: LinearOptions,
  opts: LlamaGraphOptions = {},
): G {
  const { hidden: D, heads: H, kvHeads: KV, headDim: HD, vocab: V } = s;
  const half = HD / 2;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const am = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const pos = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < s.layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', KV, 'past_sequence_length', HD]);
    g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', KV, 'past_sequence_length', HD]);
  }

  // Constants only the plain-op rotary and RMSNorm use, made on first use (the fused kernels need none).
  const once = (make: () => string) => {
    let v: string | undefined;
    return () => (v ??= make());
  };
  const pc = {
    ax1: once(() => g.int64('c/ax1', [1])),
    ax3: once(() => g.int64('c/ax3', [3])),
    s0: once(() => g.int64('c/s0', [0])),
    sHalf: once(() => g.int64('c/sHalf', [half])),
    sFull: once(() => g.int64('c/sFull', [HD])),
    eps: once(() => g.floatScalar('c/eps', s.rmsEps)),
  };
  const c = {
    scale: g.floatScalar('c/scale', 1 / Math.sqrt(HD)),
    qShape: g.int64('c/qShape', [0, 0, H, HD]),
    kvShape: g.int64('c/kvShape', [0, 0, KV, HD]),
    mergeShape: g.int64('c/mergeShape', [0, 0, H * HD]),
    repShape: g.int64('c/repShape', [0, H, -1, HD]),
    groupShape: g.int64('c/groupShape', [0, KV, -1, HD]),
    maskTile: g.int64('c/maskTile', [1, 1, H / KV, 1]),
  };

  const mask = additiveMask(g, ids, am);
  // The mask repeated for the G query heads that share a K/V head ([B, 1, G*S, T]): built once, used by every layer.
  const groupMask = H === KV ? mask : g.o('Tile', [mask, c.maskTile]);

  const tables = w.rope ?? ropeTables(s);
  const cosT = g.float('rope.cos', [s.maxPositions, half], tables.cos);
  const sinT = g.float('rope.sin', [s.maxPositions, half], tables.sin);
  let cs: [string, string] | undefined;
  // The tables gathered once per step for all layers ([B, 1, S, half]).
  const cosSin = () => (cs ??= [cosT, sinT].map((t) => g.o('Unsqueeze', [g.o('Gather', [t, pos], { axis: 0 }), pc.ax1()])) as [string, string]);
  const rope = (x: string) => {
    // x is [B, heads, S, HD]; interleaved 0 is HF's rotate_half convention.
    if (opts.fused) return g.o('RotaryEmbedding', [x, pos, cosT, sinT], { interleaved: 0 }, undefined, 'com.microsoft');
    const [cos, sin] = cosSin();
    const x1 = g.o('Slice', [x, pc.s0(), pc.sHalf(), pc.ax3()]);
    const x2 = g.o('Slice', [x, pc.sHalf(), pc.sFull(), pc.ax3()]);
    const a = g.o('Sub', [g.o('Mul', [x1, cos]), g.o('Mul', [x2, sin])]);
    const b = g.o('Add', [g.o('Mul', [x2, cos]), g.o('Mul', [x1, sin])]);
    return g.o('Concat', [a, b], { axis: 3 });
  };
  const rms = (x: string, name: string, weight: Float32Array) => {
    if (opts.fused) return g.o('SimplifiedLayerNormalization', [x, g.float(name, [D], weight)], { axis: -1, epsilon: { float: s.rmsEps } });
    const variance = g.o('ReduceMean', [g.o('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.o('Reciprocal', [g.o('Sqrt', [g.o('Add', [variance, pc.eps()])])]);
    return g.o('Mul', [g.o('Mul', [x, inv]), g.float(name, [D], weight)]);
  };

  let x = embedding(g, ids, 'model.embed_tokens.weight', w.embed, V, D, lin);
  w.layers.forEach((lw, l) => {
    const p = `model.layers.${l}`;
    const bias = w.biases?.[l] ?? {};
    const proj = (y: string, key: keyof LlamaBiases, name: string, W: Float32Array, K: number, N: number) => {
      const out = linear(g, y, `${p}.${name}`, W, K, N, lin);
      const b = bias[key];
      return b ? g.o('Add', [out, g.float(`${p}.${name}.bias`, [N], b)]) : out;
    };
    const h = rms(x, `${p}.input_layernorm.weight`, lw.inNorm);
    const heads = (y: string, shape: string) => g.o('Transpose', [g.o('Reshape', [y, shape])], { perm: [0, 2, 1, 3] });
    const q = rope(heads(proj(h, 'q', 'self_attn.q_proj', lw.wq, D, H * HD), c.qShape));
    const k = rope(heads(proj(h, 'k', 'self_attn.k_proj', lw.wk, D, KV * HD), c.kvShape));
    const v = heads(proj(h, 'v', 'self_attn.v_proj', lw.wv, D, KV * HD), c.kvShape);
    const presentK = g.o('Concat', [`past_key_values.${l}.key`, k], { axis: 2 }, `present.${l}.key`);
    const presentV = g.o('Concat', [`past_key_values.${l}.value`, v], { axis: 2 }, `present.${l}.value`);
    // Grouped-query attention without copying K/V per query head: query head h = kv * G + j (HF's repeat_kv order),
    // so [B, H, S, hd] regroups as [B, KV, G*S, hd] and each K/V head is read once by its G query heads.
    const qg = H === KV ? q : g.o('Reshape', [q, c.groupShape]);
    const scores = g.o('Add', [g.o('Mul', [g.o('MatMul', [qg, g.o('Transpose', [presentK], { perm: [0, 1, 3, 2] })]), c.scale]), groupMask]);
    const attnG = g.o('MatMul', [g.o('Softmax', [scores], { axis: -1 }), presentV]);
    const attn = H === KV ? attnG : g.o('Reshape', [attnG, c.repShape]);
    const merged = g.o('Reshape', [g.o('Transpose', [attn], { perm: [0, 2, 1, 3] }), c.mergeShape]);
    x = g.o('Add', [x, proj(merged, 'o', 'self_attn.o_proj', lw.wo, H * HD, D)]);
    const h2 = rms(x, `${p}.post_attention_layernorm.weight`, lw.postNorm);
    const gate = proj(h2, 'gate', 'mlp.gate_proj', lw.wg, D, s.intermediate);
    const up = proj(h2, 'up', 'mlp.up_proj', lw.wu, D, s.intermediate);
    const act = g.o('Mul', [g.o('Mul', [gate, g.o('Sigmoid', [gate])]), up]);
    x = g.o('Add', [x, proj(act, 'down', 'mlp.down_proj', lw.wd, s.intermediate, D)]);
    g.output(presentK, 'float32', ['batch_size', KV, 'total_sequence_length', HD]);
    g.output(presentV, 'float32', ['batch_size', KV, 'total_sequence_length', HD]);
  });
  const final = rms(x, 'model.norm.weight', w.finalNorm);
  // The LM head is quantized like every other linear layer: it is the largest matrix of a small model.
  linear(g, final, 'lm_head', w.lmHead, D, V, lin, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  return g;
}
