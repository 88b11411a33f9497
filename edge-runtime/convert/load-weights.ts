/**
 * A checkpoint's tensors, by their Hugging Face names, as the weight structs our graph builders take. Every tensor is
 * checked first (present, readable dtype, shape from config.json) without reading data; the weights are then lazy:
 * each is read from disk when the builder places it, so only the graph being written holds memory, never the whole
 * checkpoint as well. HF linear weights are [out, in]; the builders take [in, out] (x @ W), so Llama projections are
 * transposed on read. GPT-2's Conv1D weights are already [in, out].
 */
import type { LlamaShape, LlamaWeights, LlamaLayerWeights } from '../graph/llama-weights.js';
import type { LlamaBiases, LlamaGraphExtras } from '../graph/llama-graph.js';
import type { Gpt2Shape, Gpt2Weights, Gpt2LayerWeights } from '../graph/gpt2-weights.js';
import { transposeMatrix } from '../graph/quantize.js';
import type { Checkpoint } from './checkpoint.js';
import { CheckpointError } from './safetensors.js';

export type OnTensor = (name: string) => void;

/** An object whose properties read their tensor on access. */
function lazy<T>(defs: Record<string, () => Float32Array>): T {
  const o: Record<string, Float32Array> = {};
  for (const [k, f] of Object.entries(defs)) Object.defineProperty(o, k, { get: f, enumerable: true });
  return o as T;
}

export interface LazyLlama {
  weights: LlamaWeights & LlamaGraphExtras;
  tied: boolean;
  used: Set<string>;
}

export function lazyLlamaWeights(ck: Checkpoint, s: LlamaShape, tieConfig: boolean | undefined, onTensor: OnTensor = () => {}): LazyLlama {
  const used = new Set<string>();
  const { hidden: D, heads: H, kvHeads: KV, headDim: HD, intermediate: I, vocab: V } = s;
  /** Checks now, reads later. */
  const plan = (name: string, shape: number[]) => {
    ck.check(name, shape);
    used.add(name);
    return () => {
      const t = ck.readSync(name, shape);
      onTensor(name);
      return t;
    };
  };
  /** HF [out, in] -> [in, out]. */
  const linearW = (name: string, out: number, inp: number) => {
    const read = plan(name, [out, inp]);
    return () => transposeMatrix(read(), out, inp);
  };
  const embed = plan('model.embed_tokens.weight', [V, D]);
  const layers: LlamaLayerWeights[] = [];
  const biases: LlamaBiases[] = [];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    const dims: Record<keyof LlamaBiases, [string, number]> = {
      q: ['self_attn.q_proj', H * HD],
      k: ['self_attn.k_proj', KV * HD],
      v: ['self_attn.v_proj', KV * HD],
      o: ['self_attn.o_proj', D],
      gate: ['mlp.gate_proj', I],
      up: ['mlp.up_proj', I],
      down: ['mlp.down_proj', D],
    };
    const b: Record<string, () => Float32Array> = {};
    for (const [key, [name, n]] of Object.entries(dims)) if (ck.has(`${p}.${name}.bias`)) b[key] = plan(`${p}.${name}.bias`, [n]);
    biases.push(lazy<LlamaBiases>(b));
    layers.push(
      lazy<LlamaLayerWeights>({
        inNorm: plan(`${p}.input_layernorm.weight`, [D]),
        wq: linearW(`${p}.self_attn.q_proj.weight`, H * HD, D),
        wk: linearW(`${p}.self_attn.k_proj.weight`, KV * HD, D),
        wv: linearW(`${p}.self_attn.v_proj.weight`, KV * HD, D),
        wo: linearW(`${p}.self_attn.o_proj.weight`, D, H * HD),
        postNorm: plan(`${p}.post_attention_layernorm.weight`, [D]),
        wg: linearW(`${p}.mlp.gate_proj.weight`, I, D),
        wu: linearW(`${p}.mlp.up_proj.weight`, I, D),
        wd: linearW(`${p}.mlp.down_proj.weight`, D, I),
      }),
    );
  }
  const finalNorm = plan('model.norm.weight', [D]);
  let lmHead: () => Float32Array;
  let tied = false;
  if (ck.has('lm_head.weight')) {
    lmHead = linearW('lm_head.weight', V, D);
  } else if (tieConfig === false) {
    throw new CheckpointError(`${ck.dir}: no tensor 'lm_head.weight' and config.json sets tie_word_embeddings: false`);
  } else {
    // Tied embeddings (Qwen2.5-0.5B, SmolLM2): the LM head is the embedding table read as [hidden, vocab].
    lmHead = () => transposeMatrix(embed(), V, D);
    tied = true;
  }
  const weights = lazy<LlamaWeights>({ embed, finalNorm, lmHead });
  Object.assign(weights, { layers, biases });
  return { weights, tied, used };
}

/** GPT-2 checkpoints name tensors with or without the `transformer.` prefix (the original upload has none). */
function gpt2Prefix(ck: Checkpoint): string {
  if (ck.has('transformer.wte.weight')) return 'transformer.';
  if (ck.has('wte.weight')) return '';
  throw new CheckpointError(`${ck.dir}: no tensor 'transformer.wte.weight' (or 'wte.weight'): not a GPT-2 checkpoint`);
}

export function lazyGpt2Weights(
  ck: Checkpoint,
  s: Gpt2Shape,
  trainedPositions: number,
  onTensor: OnTensor = () => {},
): { weights: Gpt2Weights; used: Set<string> } {
  const used = new Set<string>();
  const pre = gpt2Prefix(ck);
  const D = s.hidden;
  const plan = (name: string, shape: number[]) => {
    ck.check(pre + name, shape);
    used.add(pre + name);
    return () => {
      const t = ck.readSync(pre + name, shape);
      onTensor(pre + name);
      return t;
    };
  };
  const wpeFull = plan('wpe.weight', [trainedPositions, D]);
  const layers: Gpt2LayerWeights[] = [];
  for (let l = 0; l < s.layers; l++) {
    const p = `h.${l}`;
    layers.push(
      lazy<Gpt2LayerWeights>({
        ln1g: plan(`${p}.ln_1.weight`, [D]),
        ln1b: plan(`${p}.ln_1.bias`, [D]),
        attnW: plan(`${p}.attn.c_attn.weight`, [D, 3 * D]),
        attnB: plan(`${p}.attn.c_attn.bias`, [3 * D]),
        projW: plan(`${p}.attn.c_proj.weight`, [D, D]),
        projB: plan(`${p}.attn.c_proj.bias`, [D]),
        ln2g: plan(`${p}.ln_2.weight`, [D]),
        ln2b: plan(`${p}.ln_2.bias`, [D]),
        fcW: plan(`${p}.mlp.c_fc.weight`, [D, 4 * D]),
        fcB: plan(`${p}.mlp.c_fc.bias`, [4 * D]),
        fc2W: plan(`${p}.mlp.c_proj.weight`, [4 * D, D]),
        fc2B: plan(`${p}.mlp.c_proj.bias`, [D]),
      }),
    );
  }
  const weights = lazy<Gpt2Weights>({
    wte: plan('wte.weight', [s.vocab, D]),
    // A context cap keeps only the first rows of the learned position table.
    wpe: () => wpeFull().slice(0, s.maxPositions * D),
    lnfG: plan('ln_f.weight', [D]),
    lnfB: plan('ln_f.bias', [D]),
  });
  Object.assign(weights, { layers });
  // GPT-2's head is always the embedding table; a stored lm_head.weight is the same tensor.
  if (ck.has('lm_head.weight')) used.add('lm_head.weight');
  return { weights, used };
}

/** Tensors a checkpoint holds that the conversion did not use, minus buffers HF saves that carry no weights. */
export function unusedTensors(ck: Checkpoint, used: Set<string>): string[] {
  const buffers = /(\.attn\.(masked_)?bias|rotary_emb\.inv_freq)$/;
  return ck.names().filter((n) => !used.has(n) && !buffers.test(n));
}
