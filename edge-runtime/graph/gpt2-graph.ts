/**
 * Writes a GPT-2-family decoder in the HF/Optimum layout (same I/O names as the Llama graph, position_ids included),
 * each layer's K/V path being Concat(past, new, axis=2) so the engine can rewrite it into the paged form.
 */
import { GraphBuilder } from './graph-builder.js';
import { embedding, linear, type LinearOptions } from './linear.js';
import { additiveMask } from './attention-mask.js';
import { transpose, type Gpt2Shape, type Gpt2Weights } from './gpt2-weights.js';

export function buildGpt2Graph(s: Gpt2Shape, w: Gpt2Weights, lin: LinearOptions): Uint8Array {
  return buildGpt2GraphInto(new GraphBuilder('switchyard-gpt2'), s, w, lin).encode();
}

/** Adds the graph to `g`: a streaming builder can then write a big model without encoding it whole in memory. */
export function buildGpt2GraphInto<G extends GraphBuilder>(g: G, s: Gpt2Shape, w: Gpt2Weights, lin: LinearOptions): G {
  const { hidden: D, heads: H, vocab: V } = s;
  const HD = D / H;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const am = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const pos = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < s.layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', H, 'past_sequence_length', HD]);
    g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', H, 'past_sequence_length', HD]);
  }
  const c = {
    headShape: g.int64('c/headShape', [0, 0, H, HD]),
    mergeShape: g.int64('c/mergeShape', [0, 0, D]),
    split: g.int64('c/split', [D, D, D]),
    scale: g.floatScalar('c/scale', 1 / Math.sqrt(HD)),
    half: g.floatScalar('c/half', 0.5),
    one: g.floatScalar('c/one1', 1),
    k0: g.floatScalar('c/k0', Math.sqrt(2 / Math.PI)),
    k1: g.floatScalar('c/k1', 0.044715),
  };
  const mask = additiveMask(g, ids, am);
  const ln = (x: string, name: string, gamma: Float32Array, beta: Float32Array) =>
    g.o('LayerNormalization', [x, g.float(`${name}.weight`, [D], gamma), g.float(`${name}.bias`, [D], beta)], {
      axis: -1,
      epsilon: { float: s.lnEps },
    });
  const dense = (x: string, name: string, W: Float32Array, B: Float32Array, K: number, N: number) =>
    g.o('Add', [linear(g, x, name, W, K, N, lin), g.float(`${name}.bias`, [N], B)]);
  // gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  const gelu = (x: string) => {
    const cube = g.o('Mul', [g.o('Mul', [x, x]), x]);
    const inner = g.o('Mul', [g.o('Add', [x, g.o('Mul', [cube, c.k1])]), c.k0]);
    return g.o('Mul', [g.o('Mul', [x, c.half]), g.o('Add', [g.o('Tanh', [inner]), c.one])]);
  };

  let x = g.o('Add', [
    embedding(g, ids, 'transformer.wte.weight', w.wte, V, D, lin),
    g.o('Gather', [g.float('transformer.wpe.weight', [s.maxPositions, D], w.wpe), pos], { axis: 0 }),
  ]);
  w.layers.forEach((lw, l) => {
    const p = `transformer.h.${l}`;
    const h = ln(x, `${p}.ln_1`, lw.ln1g, lw.ln1b);
    const qkv = dense(h, `${p}.attn.c_attn`, lw.attnW, lw.attnB, D, 3 * D);
    const [q0, k0, v0] = g.op('Split', [qkv, c.split], { axis: 2 }, { outputs: [`${p}/q`, `${p}/k`, `${p}/v`] });
    const heads = (y: string) => g.o('Transpose', [g.o('Reshape', [y, c.headShape])], { perm: [0, 2, 1, 3] });
    const q = heads(q0!);
    const k = g.o('Concat', [`past_key_values.${l}.key`, heads(k0!)], { axis: 2 }, `present.${l}.key`);
    const v = g.o('Concat', [`past_key_values.${l}.value`, heads(v0!)], { axis: 2 }, `present.${l}.value`);
    const scores = g.o('Add', [g.o('Mul', [g.o('MatMul', [q, g.o('Transpose', [k], { perm: [0, 1, 3, 2] })]), c.scale]), mask]);
    const attn = g.o('MatMul', [g.o('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.o('Reshape', [g.o('Transpose', [attn], { perm: [0, 2, 1, 3] }), c.mergeShape]);
    x = g.o('Add', [x, dense(merged, `${p}.attn.c_proj`, lw.projW, lw.projB, D, D)]);
    const h2 = ln(x, `${p}.ln_2`, lw.ln2g, lw.ln2b);
    const mlp = dense(gelu(dense(h2, `${p}.mlp.c_fc`, lw.fcW, lw.fcB, D, 4 * D)), `${p}.mlp.c_proj`, lw.fc2W, lw.fc2B, 4 * D, D);
    x = g.o('Add', [x, mlp]);
    g.output(k, 'float32', ['batch_size', H, 'total_sequence_length', HD]);
    g.output(v, 'float32', ['batch_size', H, 'total_sequence_length', HD]);
  });
  const final = ln(x, 'transformer.ln_f', w.lnfG, w.lnfB);
  linear(g, final, 'lm_head', transpose(w.wte, V, D), D, V, lin, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  return g;
}
