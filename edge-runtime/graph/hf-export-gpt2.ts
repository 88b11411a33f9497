/**
 * A GPT-2 decoder written the way torch.onnx.export of Hugging Face's eager `GPT2LMHeadModel` (Optimum names, with
 * position_ids) writes it: past length from `Shape(past_key_values.0.key)`, the causal `bias` buffer sliced
 * `[T - S : T, :T]` and applied with `Where(.., finfo.min)`, the padding mask added as `(1 - mask) * finfo.min`,
 * Conv1D as MatMul + Add, gelu_new with `Pow`, `Constant` nodes for every literal.
 */
import { onnx } from './onnx.js';
import { GraphBuilder } from './graph-builder.js';
import { linear, type LinearOptions } from './linear.js';
import { transpose, type Gpt2Shape, type Gpt2Weights } from './gpt2-weights.js';
import { FLOAT_MIN, TorchOps } from './torch-ops.js';

/**
 * `positionIds: false` writes the older export without a position_ids input, whose positions are
 * `arange(past_length, past_length + S)` from the past's Shape: right only when every row's past is exactly its
 * length, which the paged rewrite (whole blocks) and batched padding break. Tests use it for the fallback path.
 */
export function buildHfExportGpt2(s: Gpt2Shape, w: Gpt2Weights, lin: LinearOptions, opts: { positionIds?: boolean } = {}): Uint8Array {
  const g = new GraphBuilder('torch_jit');
  const t = new TorchOps(g);
  const { hidden: D, heads: H, vocab: V, maxPositions: NP } = s;
  const HD = D / H;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const am = g.input('attention_mask', 'int64', ['batch_size', 'past_sequence_length + sequence_length']);
  const withPositions = opts.positionIds ?? true;
  const pos = withPositions ? g.input('position_ids', 'int64', ['batch_size', 'sequence_length']) : '';
  for (let l = 0; l < s.layers; l++) {
    g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', H, 'past_sequence_length', HD]);
    g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', H, 'past_sequence_length', HD]);
  }
  const B = t.dim(ids, 0);
  const S = t.dim(ids, 1);
  const past = t.dim('past_key_values.0.key', 2);
  const positions = withPositions
    ? pos
    : g.o('Expand', [g.o('Unsqueeze', [g.o('Range', [past, g.o('Add', [past, S]), t.int(1)]), t.ints([0])]), t.shape([B, S])]);
  // The registered causal buffer: tril(ones(n_positions, n_positions)) as bool [1, 1, NP, NP].
  const tril = new Uint8Array(NP * NP);
  for (let i = 0; i < NP; i++) for (let j = 0; j <= i; j++) tril[i * NP + j] = 1;
  const bias = g.raw('transformer.h.0.attn.bias', onnx.TensorProto.DataType.BOOL, [1, 1, NP, NP], tril);
  // attention_mask = (1.0 - attention_mask[:, None, None, :]) * finfo.min
  const amF = g.o('Unsqueeze', [t.castFloat(g.o('Reshape', [am, t.shape([B, -1])])), t.ints([1, 2])]);
  const padMask = g.o('Mul', [g.o('Sub', [t.float(1), amF]), t.float(FLOAT_MIN)]);

  const dense = (x: string, name: string, W: Float32Array, b: Float32Array, K: number, N: number) =>
    g.o('Add', [g.float(`${name}.bias`, [N], b), linear(g, x, name, W, K, N, lin)]);
  const ln = (x: string, name: string, gamma: Float32Array, beta: Float32Array) =>
    g.o('LayerNormalization', [x, g.float(`${name}.weight`, [D], gamma), g.float(`${name}.bias`, [D], beta)], {
      axis: -1,
      epsilon: { float: s.lnEps },
    });
  const geluNew = (x: string) => {
    const inner = g.o('Mul', [t.float(Math.sqrt(2 / Math.PI)), g.o('Add', [x, g.o('Mul', [t.float(0.044715), g.o('Pow', [x, t.float(3)])])])]);
    return g.o('Mul', [g.o('Mul', [t.float(0.5), x]), g.o('Add', [t.float(1), g.o('Tanh', [inner])])]);
  };

  let x = g.o('Add', [
    g.o('Gather', [g.float('transformer.wte.weight', [V, D], w.wte), ids], { axis: 0 }),
    g.o('Gather', [g.float('transformer.wpe.weight', [NP, D], w.wpe), positions], { axis: 0 }),
  ]);
  w.layers.forEach((lw, l) => {
    const p = `transformer.h.${l}`;
    const qkv = dense(ln(x, `${p}.ln_1`, lw.ln1g, lw.ln1b), `${p}.attn.c_attn`, lw.attnW, lw.attnB, D, 3 * D);
    const [q0, k0, v0] = g.op('Split', [qkv, t.ints([D, D, D])], { axis: 2 }, { outputs: [`${p}/q`, `${p}/k`, `${p}/v`] });
    const heads = (y: string) => g.o('Transpose', [g.o('Reshape', [y, t.shape([B, S, H, HD])])], { perm: [0, 2, 1, 3] });
    const q = heads(q0!);
    const k = g.o('Concat', [`past_key_values.${l}.key`, heads(k0!)], { axis: -2 }, `present.${l}.key`);
    const v = g.o('Concat', [`past_key_values.${l}.value`, heads(v0!)], { axis: -2 }, `present.${l}.value`);
    const scores = g.o('Div', [g.o('MatMul', [q, g.o('Transpose', [k], { perm: [0, 1, 3, 2] })]), t.float(Math.sqrt(HD))]);
    // causal_mask = self.bias[:, :, key_length - query_length : key_length, :key_length]
    const qLen = t.dim(q, 2);
    const kLen = t.dim(k, 2);
    const unsq = (d: string) => g.o('Unsqueeze', [d, t.ints([0])]);
    const rows = g.o('Slice', [bias, unsq(g.o('Sub', [kLen, qLen])), unsq(kLen), t.ints([2])]);
    const causal = g.o('Slice', [rows, t.ints([0]), unsq(kLen), t.ints([3])]);
    const masked = g.o('Add', [g.o('Where', [causal, scores, t.float(FLOAT_MIN)]), padMask]);
    const attn = g.o('MatMul', [g.o('Softmax', [masked], { axis: -1 }), v]);
    const merged = g.o('Reshape', [g.o('Transpose', [attn], { perm: [0, 2, 1, 3] }), t.shape([B, S, D])]);
    x = g.o('Add', [dense(merged, `${p}.attn.c_proj`, lw.projW, lw.projB, D, D), x]);
    const h2 = ln(x, `${p}.ln_2`, lw.ln2g, lw.ln2b);
    const mlp = dense(geluNew(dense(h2, `${p}.mlp.c_fc`, lw.fcW, lw.fcB, D, 4 * D)), `${p}.mlp.c_proj`, lw.fc2W, lw.fc2B, 4 * D, D);
    x = g.o('Add', [x, mlp]);
  });
  const final = ln(x, 'transformer.ln_f', w.lnfG, w.lnfB);
  linear(g, final, 'lm_head', transpose(w.wte, V, D), D, V, lin, 'logits');
  g.output('logits', 'float32', ['batch_size', 'sequence_length', V]);
  for (let l = 0; l < s.layers; l++) {
    g.output(`present.${l}.key`, 'float32', ['batch_size', H, 'past_sequence_length + sequence_length', HD]);
    g.output(`present.${l}.value`, 'float32', ['batch_size', H, 'past_sequence_length + sequence_length', HD]);
  }
  return g.encode();
}
