/**
 * A Llama decoder written the way torch.onnx.export of Hugging Face's eager `LlamaForCausalLM` (Optimum's
 * decoder-with-past names) writes it: the past length is read with `Shape(past_key_values.0.key)`, rotary cos/sin are
 * computed in the graph from `position_ids`, the mask is built with `Trilu`/`Expand`/`ScatterND`/`Where` from
 * `finfo.min`, K/V heads are repeated with `Expand` (repeat_kv), every literal is a `Constant` node, and the logits
 * are `Cast` to float. The engine must serve this style unmodified by the user, so tests build it.
 */
import { GraphBuilder } from './graph-builder.js';
import { linear, type LinearOptions } from './linear.js';
import type { LlamaShape, LlamaWeights } from './llama-weights.js';
import { FLOAT_MIN, TorchOps } from './torch-ops.js';

/**
 * `positionIds: false` writes the export without a position_ids input, where HF uses `cache_position[None]` (the past
 * length read from the past's Shape): right only when every row's past is exactly its length, which the paged
 * rewrite (whole blocks) and batched padding break. Tests use it for the fallback path.
 */
export interface HfLlamaVariant {
  positionIds?: boolean;
  /** Qwen2: q/k/v projections carry biases (per layer, [H*hd], [KV*hd], [KV*hd]). */
  qkvBias?: Array<{ q: Float32Array; k: Float32Array; v: Float32Array }>;
  /** Phi-3: one qkv_proj sliced into Q, K, V, and one gate_up_proj chunked into gate and up. */
  fused?: boolean;
}

/** Concatenates row-major [K, n_i] matrices along columns: the weight of a fused projection. */
export function concatColumns(K: number, parts: Array<{ w: Float32Array; n: number }>): Float32Array {
  const N = parts.reduce((a, p) => a + p.n, 0);
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    let at = k * N;
    for (const p of parts) (out.set(p.w.subarray(k * p.n, (k + 1) * p.n), at), (at += p.n));
  }
  return out;
}

export function buildHfExportLlama(s: LlamaShape, w: LlamaWeights, lin: LinearOptions, opts: HfLlamaVariant = {}): Uint8Array {
  const g = new GraphBuilder('torch_jit');
  const t = new TorchOps(g);
  const { hidden: D, heads: H, kvHeads: KV, headDim: HD, vocab: V } = s;
  const G = H / KV;
  const half = HD / 2;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const am = g.input('attention_mask', 'int64', ['batch_size', 'past_sequence_length + 1']);
  const withPositions = opts.positionIds ?? true;
  const posInput = withPositions ? g.input('position_ids', 'int64', ['batch_size', 'sequence_length']) : '';
  for (let l = 0; l < s.layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', KV, 'past_sequence_length', HD]);
    g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', KV, 'past_sequence_length', HD]);
  }
  const B = t.dim(ids, 0);
  const S = t.dim(ids, 1);
  // past_seen_tokens = past_key_values.get_seq_length(): a Shape read of the first layer's past key.
  const past = t.dim('past_key_values.0.key', 2);
  const T = g.o('Add', [past, S]);
  const cachePos = g.o('Range', [past, T, t.int(1)]);
  const pos = withPositions ? posInput : g.o('Unsqueeze', [cachePos, t.ints([0])]);

  // _update_causal_mask: full((S, T), min).triu(1) * (arange(T) > cache_position[:, None]), expanded to [B, 1, S, T],
  // then the padding columns filled with min through a slice assignment (ScatterND).
  const full = g.o('Expand', [t.float(FLOAT_MIN), t.shape([S, T])]);
  const triu = g.o('Trilu', [full, t.int(1)], { upper: 1 });
  const later = g.o('Greater', [g.o('Range', [t.int(0), T, t.int(1)]), g.o('Unsqueeze', [cachePos, t.ints([1])])]);
  const causal = g.o('Mul', [triu, t.castFloat(later)]);
  const causal4 = g.o('Expand', [g.o('Unsqueeze', [causal, t.ints([0, 1])]), t.shape([B, 1, S, T])]);
  const amF = g.o('Unsqueeze', [t.castFloat(am), t.ints([1, 2])]);
  const isPad = g.o('Equal', [g.o('Add', [causal4, amF]), t.float(0)]);
  const filled = g.o('Where', [isPad, t.float(FLOAT_MIN), causal4]);
  const rowsB = g.o('Expand', [g.o('Reshape', [g.o('Range', [t.int(0), B, t.int(1)]), t.ints([-1, 1, 1, 1])]), t.shape([B, 1, S, 1])]);
  const rowsS = g.o('Expand', [g.o('Reshape', [g.o('Range', [t.int(0), S, t.int(1)]), t.ints([1, 1, -1, 1])]), t.shape([B, 1, S, 1])]);
  const zeros = g.o('Mul', [rowsB, t.int(0)]);
  const index = g.o('Concat', [rowsB, zeros, rowsS], { axis: -1 });
  const mask = g.o('ScatterND', [causal4, index, filled]);

  // LlamaRotaryEmbedding: inv_freq[None, :, None].expand(B, -1, 1) @ position_ids[:, None, :] -> cat(freqs, freqs).
  const invFreq = Array.from({ length: half }, (_, i) => 1 / Math.pow(s.ropeTheta, (2 * i) / HD));
  const invE = g.o('Expand', [g.o('Unsqueeze', [t.floats(invFreq), t.ints([0, 2])]), t.shape([B, 1, 1])]);
  const freqs = g.o('Transpose', [g.o('MatMul', [invE, g.o('Unsqueeze', [t.castFloat(pos), t.ints([1])])])], { perm: [0, 2, 1] });
  const emb = g.o('Concat', [freqs, freqs], { axis: -1 });
  const cos = g.o('Unsqueeze', [g.o('Cos', [emb]), t.ints([1])]);
  const sin = g.o('Unsqueeze', [g.o('Sin', [emb]), t.ints([1])]);
  const rotateHalf = (x: string) => {
    const x1 = g.o('Slice', [x, t.ints([0]), t.ints([half]), t.ints([-1])]);
    const x2 = g.o('Slice', [x, t.ints([half]), t.ints([2 ** 53 - 1]), t.ints([-1])]);
    return g.o('Concat', [g.o('Neg', [x2]), x1], { axis: -1 });
  };
  const rope = (x: string) => g.o('Add', [g.o('Mul', [x, cos]), g.o('Mul', [rotateHalf(x), sin])]);
  const rms = (x: string, name: string, weight: Float32Array) => {
    const xf = t.castFloat(x);
    const variance = g.o('ReduceMean', [g.o('Pow', [xf, t.float(2)])], { axes: [-1], keepdims: 1 });
    const normed = g.o('Mul', [xf, g.o('Reciprocal', [g.o('Sqrt', [g.o('Add', [variance, t.float(s.rmsEps)])])])]);
    return g.o('Mul', [g.float(name, [D], weight), t.castFloat(normed)]);
  };
  const repeatKv = (x: string) => {
    if (G === 1) return x;
    const len = t.dim(x, 2);
    const expanded = g.o('Expand', [g.o('Unsqueeze', [x, t.ints([2])]), t.shape([B, KV, G, len, HD])]);
    return g.o('Reshape', [expanded, t.shape([B, H, len, HD])]);
  };

  let x = g.o('Gather', [g.float('model.embed_tokens.weight', [V, D], w.embed), ids], { axis: 0 });
  w.layers.forEach((lw, l) => {
    const p = `model.layers.${l}`;
    const h = rms(x, `${p}.input_layernorm.weight`, lw.inNorm);
    const heads = (y: string) => g.o('Transpose', [g.o('Reshape', [y, t.shape([B, S, -1, HD])])], { perm: [0, 2, 1, 3] });
    let qp: string, kp: string, vp: string;
    if (opts.fused) {
      // Phi-3: qkv = self.qkv_proj(x); q = qkv[..., :q_pos]; k = qkv[..., q_pos : q_pos + kv]; v = qkv[..., q_pos + kv :]
      const W = concatColumns(D, [
        { w: lw.wq, n: H * HD },
        { w: lw.wk, n: KV * HD },
        { w: lw.wv, n: KV * HD },
      ]);
      const qkv = linear(g, h, `${p}.self_attn.qkv_proj`, W, D, (H + 2 * KV) * HD, lin);
      const cut = (a: number, b: number) => g.o('Slice', [qkv, t.ints([a]), t.ints([b]), t.ints([-1])]);
      qp = cut(0, H * HD);
      kp = cut(H * HD, (H + KV) * HD);
      vp = cut((H + KV) * HD, (H + 2 * KV) * HD);
    } else {
      qp = linear(g, h, `${p}.self_attn.q_proj`, lw.wq, D, H * HD, lin);
      kp = linear(g, h, `${p}.self_attn.k_proj`, lw.wk, D, KV * HD, lin);
      vp = linear(g, h, `${p}.self_attn.v_proj`, lw.wv, D, KV * HD, lin);
    }
    const b = opts.qkvBias?.[l];
    if (b) {
      qp = g.o('Add', [g.float(`${p}.self_attn.q_proj.bias`, [H * HD], b.q), qp]);
      kp = g.o('Add', [g.float(`${p}.self_attn.k_proj.bias`, [KV * HD], b.k), kp]);
      vp = g.o('Add', [g.float(`${p}.self_attn.v_proj.bias`, [KV * HD], b.v), vp]);
    }
    const q = rope(heads(qp));
    const k = rope(heads(kp));
    const v = heads(vp);
    const presentK = g.o('Concat', [`past_key_values.${l}.key`, k], { axis: -2 }, `present.${l}.key`);
    const presentV = g.o('Concat', [`past_key_values.${l}.value`, v], { axis: -2 }, `present.${l}.value`);
    const kr = repeatKv(presentK);
    const vr = repeatKv(presentV);
    const scores = g.o('Div', [g.o('MatMul', [q, g.o('Transpose', [kr], { perm: [0, 1, 3, 2] })]), t.float(Math.sqrt(HD))]);
    // causal_mask[:, :, :, : key_states.shape[-2]]
    const layerMask = g.o('Slice', [mask, t.ints([0]), g.o('Unsqueeze', [t.dim(kr, 2), t.ints([0])]), t.ints([3])]);
    const probs = t.castFloat(g.o('Softmax', [g.o('Add', [scores, layerMask])], { axis: -1 }));
    const attn = g.o('Transpose', [g.o('MatMul', [probs, vr])], { perm: [0, 2, 1, 3] });
    const merged = g.o('Reshape', [attn, t.shape([B, S, -1])]);
    x = g.o('Add', [x, linear(g, merged, `${p}.self_attn.o_proj`, lw.wo, H * HD, D, lin)]);
    const h2 = rms(x, `${p}.post_attention_layernorm.weight`, lw.postNorm);
    let gate: string, up: string;
    if (opts.fused) {
      // Phi-3: gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
      const W = concatColumns(D, [
        { w: lw.wg, n: s.intermediate },
        { w: lw.wu, n: s.intermediate },
      ]);
      const both = linear(g, h2, `${p}.mlp.gate_up_proj`, W, D, 2 * s.intermediate, lin);
      [gate, up] = g.op('Split', [both, t.ints([s.intermediate, s.intermediate])], { axis: -1 }, { outputs: [`${p}/gate`, `${p}/up`] }) as [
        string,
        string,
      ];
    } else {
      gate = linear(g, h2, `${p}.mlp.gate_proj`, lw.wg, D, s.intermediate, lin);
      up = linear(g, h2, `${p}.mlp.up_proj`, lw.wu, D, s.intermediate, lin);
    }
    const act = g.o('Mul', [g.o('Mul', [gate, g.o('Sigmoid', [gate])]), up]);
    x = g.o('Add', [x, linear(g, act, `${p}.mlp.down_proj`, lw.wd, s.intermediate, D, lin)]);
  });
  const final = rms(x, 'model.norm.weight', w.finalNorm);
  // logits = self.lm_head(hidden_states).float()
  g.o('Cast', [linear(g, final, 'lm_head', w.lmHead, D, V, lin)], { to: 1 }, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  for (let l = 0; l < s.layers; l++) {
    g.output(`present.${l}.key`, 'float32', ['batch_size', KV, 'past_sequence_length + 1', HD]);
    g.output(`present.${l}.value`, 'float32', ['batch_size', KV, 'past_sequence_length + 1', HD]);
  }
  return g.encode();
}
