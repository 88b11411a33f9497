/**
 * A GPT-2 decoder written the way ORT's transformer optimizer fuses an Optimum decoder-with-past export:
 * `com.microsoft.MultiHeadAttention` taking the new Q/K/V with the qkv bias, an additive attention bias and the past
 * K/V (present = past ++ new), `SkipLayerNormalization` carrying the residual and the projection bias, `FastGelu`
 * with the MLP bias, and (q4) `MatMulNBits` linears.
 */
import { GraphBuilder } from './graph-builder.js';
import { linear, type LinearOptions } from './linear.js';
import { additiveMask } from './attention-mask.js';
import { transpose, type Gpt2Shape, type Gpt2Weights } from './gpt2-weights.js';

const MS = 'com.microsoft';

export function buildOrtFusedGpt2(s: Gpt2Shape, w: Gpt2Weights, lin: LinearOptions): Uint8Array {
  const g = new GraphBuilder('ort_fused_gpt2');
  const { hidden: D, heads: H, vocab: V } = s;
  const HD = D / H;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const am = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const pos = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < s.layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', H, 'past_sequence_length', HD]);
    g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', H, 'past_sequence_length', HD]);
  }
  const bias = additiveMask(g, ids, am);
  const split = g.int64('c/split', [D, D, D]);
  const eps = { float: s.lnEps };
  const skipLn = (delta: string, residual: string, name: string, gamma: Float32Array, beta: Float32Array, b: Float32Array): [string, string] => {
    const [out, , , sum] = g.op(
      'SkipLayerNormalization',
      [delta, residual, g.float(`${name}.weight`, [D], gamma), g.float(`${name}.bias`, [D], beta), g.float(`${name}/skip_bias`, [D], b)],
      { epsilon: eps },
      { outputs: [`${name}/out`, `${name}/mean`, `${name}/inv_std`, `${name}/sum`], domain: MS },
    );
    return [out!, sum!];
  };

  let x = g.o('Add', [
    g.o('Gather', [g.float('transformer.wte.weight', [V, D], w.wte), ids], { axis: 0 }),
    g.o('Gather', [g.float('transformer.wpe.weight', [s.maxPositions, D], w.wpe), pos], { axis: 0 }),
  ]);
  const l0 = w.layers[0]!;
  let h = g.o('LayerNormalization', [x, g.float('transformer.h.0.ln_1.weight', [D], l0.ln1g), g.float('transformer.h.0.ln_1.bias', [D], l0.ln1b)], {
    axis: -1,
    epsilon: eps,
  });
  w.layers.forEach((lw, l) => {
    const p = `transformer.h.${l}`;
    const qkv = linear(g, h, `${p}.attn.c_attn`, lw.attnW, D, 3 * D, lin);
    const [q, k, v] = g.op('Split', [qkv, split], { axis: 2 }, { outputs: [`${p}/q`, `${p}/k`, `${p}/v`] });
    const [attn] = g.op(
      'MultiHeadAttention',
      [q!, k!, v!, g.float(`${p}.attn.c_attn.bias`, [3 * D], lw.attnB), '', bias, `past_key_values.${l}.key`, `past_key_values.${l}.value`],
      { num_heads: H },
      { outputs: [`${p}/attn`, `present.${l}.key`, `present.${l}.value`], domain: MS },
    );
    const proj = linear(g, attn!, `${p}.attn.c_proj`, lw.projW, D, D, lin);
    let h2: string;
    [h2, x] = skipLn(proj, x, `${p}.ln_2`, lw.ln2g, lw.ln2b, lw.projB);
    const fc = g.o(
      'FastGelu',
      [linear(g, h2, `${p}.mlp.c_fc`, lw.fcW, D, 4 * D, lin), g.float(`${p}.mlp.c_fc.bias`, [4 * D], lw.fcB)],
      {},
      undefined,
      MS,
    );
    const mlp = linear(g, fc, `${p}.mlp.c_proj`, lw.fc2W, 4 * D, D, lin);
    const next = w.layers[l + 1];
    [h, x] = next
      ? skipLn(mlp, x, `transformer.h.${l + 1}.ln_1`, next.ln1g, next.ln1b, lw.fc2B)
      : skipLn(mlp, x, 'transformer.ln_f', w.lnfG, w.lnfB, lw.fc2B);
  });
  linear(g, h, 'lm_head', transpose(w.wte, V, D), D, V, lin, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  for (let l = 0; l < s.layers; l++) {
    g.output(`present.${l}.key`, 'float32', ['batch_size', H, 'total_sequence_length', HD]);
    g.output(`present.${l}.value`, 'float32', ['batch_size', H, 'total_sequence_length', HD]);
  }
  return g.encode();
}
