/**
 * A Llama decoder written the way ORT's transformer optimizer and the onnxruntime-genai builder write it: fused
 * `SimplifiedLayerNormalization` / `com.microsoft.SkipSimplifiedLayerNormalization` carrying the residual,
 * `com.microsoft.RotaryEmbedding` on Q and K from cos/sin caches, `com.microsoft.GroupQueryAttention` taking the past
 * K/V with `seqlens_k` / `total_sequence_length` derived from attention_mask, and (q4) `MatMulNBits` linears. Same
 * I/O names as Optimum (past_key_values.N.*, present.N.*), which is what transformers.js feeds.
 */
import { onnx } from './onnx.js';
import { GraphBuilder } from './graph-builder.js';
import { linear, type LinearOptions } from './linear.js';
import { ropeTables, type LlamaShape, type LlamaWeights } from './llama-weights.js';
import { quantizeQ4, Q4_BLOCK } from './quantize.js';
import { transpose } from './gpt2-weights.js';
import { concatColumns } from './hf-export-llama.js';

const MS = 'com.microsoft';

/**
 * `packedQkv` writes the Phi-3 / genai form: one qkv projection feeding GroupQueryAttention's packed query input,
 * with rotary applied inside attention (do_rotary) from the cos/sin caches.
 */
export function buildOrtFusedLlama(s: LlamaShape, w: LlamaWeights, lin: LinearOptions, opts: { packedQkv?: boolean } = {}): Uint8Array {
  const g = new GraphBuilder('ort_fused_llama');
  const { hidden: D, heads: H, kvHeads: KV, headDim: HD, vocab: V } = s;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const am = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const pos = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < s.layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', KV, 'past_sequence_length', HD]);
    g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', KV, 'past_sequence_length', HD]);
  }
  // The genai builder's attention-mask subgraph: seqlens_k = sum(mask) - 1 (int32), total_sequence_length = mask width.
  const seqlensK = g.o('Cast', [g.o('Sub', [g.o('ReduceSum', [am, g.int64('c/ax1', [1])], { keepdims: 0 }), g.int64Scalar('c/one', 1)])], {
    to: onnx.TensorProto.DataType.INT32,
  });
  const total = g.o('Cast', [g.o('Gather', [g.o('Shape', [am]), g.int64Scalar('c/idx1', 1)], { axis: 0 })], { to: onnx.TensorProto.DataType.INT32 });
  const tables = ropeTables(s);
  const cosCache = g.float('cos_cache', [s.maxPositions, HD / 2], tables.cos);
  const sinCache = g.float('sin_cache', [s.maxPositions, HD / 2], tables.sin);
  const rope = (x: string, heads: number) =>
    g.o('RotaryEmbedding', [x, pos, cosCache, sinCache], { interleaved: 0, num_heads: heads }, undefined, MS);
  const eps = { float: s.rmsEps };

  let x: string;
  if (lin.format === 'q4') {
    // The genai builder's int4 embedding: 4-bit blocks of 32 along hidden, implicit zero point 8 (as MatMulNBits).
    const { packed, scales, blocks } = quantizeQ4(transpose(w.embed, V, D), D, V);
    const data = g.raw('model.embed_tokens.weight_q4', onnx.TensorProto.DataType.UINT8, [V, D / 2], packed);
    const sc = g.float('model.embed_tokens.weight_scales', [V, blocks], scales);
    x = g.o('GatherBlockQuantized', [data, ids, sc], { gather_axis: 0, quantize_axis: 1, block_size: Q4_BLOCK, bits: 4 }, undefined, MS);
  } else {
    x = g.o('Gather', [g.float('model.embed_tokens.weight', [V, D], w.embed), ids], { axis: 0 });
  }
  // Layer 0 normalizes the embeddings; every later norm is fused with the residual add that precedes it.
  let h = g.o('SimplifiedLayerNormalization', [x, g.float('model.layers.0.input_layernorm.weight', [D], w.layers[0]!.inNorm)], {
    axis: -1,
    epsilon: eps,
    stash_type: 1,
  });
  const skipNorm = (delta: string, residual: string, name: string, weight: Float32Array): [string, string] => {
    const [out, , , sum] = g.op(
      'SkipSimplifiedLayerNormalization',
      [delta, residual, g.float(name, [D], weight)],
      { epsilon: eps },
      { outputs: [`${name}/out`, `${name}/mean`, `${name}/inv_std`, `${name}/sum`], domain: MS },
    );
    return [out!, sum!];
  };
  w.layers.forEach((lw, l) => {
    const p = `model.layers.${l}`;
    let attn: string;
    if (opts.packedQkv) {
      const W = concatColumns(D, [
        { w: lw.wq, n: H * HD },
        { w: lw.wk, n: KV * HD },
        { w: lw.wv, n: KV * HD },
      ]);
      const qkv = linear(g, h, `${p}.self_attn.qkv_proj`, W, D, (H + 2 * KV) * HD, lin);
      [attn] = g.op(
        'GroupQueryAttention',
        [qkv, '', '', `past_key_values.${l}.key`, `past_key_values.${l}.value`, seqlensK, total, cosCache, sinCache],
        { num_heads: H, kv_num_heads: KV, do_rotary: 1, rotary_interleaved: 0 },
        { outputs: [`${p}/attn`, `present.${l}.key`, `present.${l}.value`], domain: MS },
      ) as [string];
    } else {
      const q = rope(linear(g, h, `${p}.self_attn.q_proj`, lw.wq, D, H * HD, lin), H);
      const k = rope(linear(g, h, `${p}.self_attn.k_proj`, lw.wk, D, KV * HD, lin), KV);
      const v = linear(g, h, `${p}.self_attn.v_proj`, lw.wv, D, KV * HD, lin);
      [attn] = g.op(
        'GroupQueryAttention',
        [q, k, v, `past_key_values.${l}.key`, `past_key_values.${l}.value`, seqlensK, total],
        { num_heads: H, kv_num_heads: KV },
        { outputs: [`${p}/attn`, `present.${l}.key`, `present.${l}.value`], domain: MS },
      ) as [string];
    }
    const o = linear(g, attn, `${p}.self_attn.o_proj`, lw.wo, H * HD, D, lin);
    let h2: string;
    [h2, x] = skipNorm(o, x, `${p}.post_attention_layernorm.weight`, lw.postNorm);
    const gate = linear(g, h2, `${p}.mlp.gate_proj`, lw.wg, D, s.intermediate, lin);
    const up = linear(g, h2, `${p}.mlp.up_proj`, lw.wu, D, s.intermediate, lin);
    const down = linear(g, g.o('Mul', [g.o('Mul', [gate, g.o('Sigmoid', [gate])]), up]), `${p}.mlp.down_proj`, lw.wd, s.intermediate, D, lin);
    const next = w.layers[l + 1];
    [h, x] = next
      ? skipNorm(down, x, `model.layers.${l + 1}.input_layernorm.weight`, next.inNorm)
      : skipNorm(down, x, 'model.norm.weight', w.finalNorm);
  });
  linear(g, h, 'lm_head', w.lmHead, D, V, lin, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  for (let l = 0; l < s.layers; l++) {
    g.output(`present.${l}.key`, 'float32', ['batch_size', KV, 'total_sequence_length', HD]);
    g.output(`present.${l}.value`, 'float32', ['batch_size', KV, 'total_sequence_length', HD]);
  }
  return g.encode();
}
