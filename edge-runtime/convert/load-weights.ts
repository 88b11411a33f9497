/**
 * A checkpoint's tensors, by their Hugging Face names, as the weight structs our graph builders take. Every tensor is
 * checked first (present, readable dtype, shape from config.json) without reading data; the weights are then lazy:
 * each is read from disk when the builder places it, so only the graph being written holds memory, never the whole
 * checkpoint as well. Llama projections stay in HF's [out, in] layout (the graph is built with `weightsAsRows`, which
 * the blockwise kernels take as they are); GPT-2's Conv1D weights are already the builders' [in, out].
 */
import type { LlamaShape, LlamaWeights, LlamaLayerWeights } from '../graph/llama-weights.js';
import type { LlamaBiases, LlamaGraphExtras } from '../graph/llama-graph.js';
import type { Gpt2Shape, Gpt2Weights, Gpt2LayerWeights } from '../graph/gpt2-weights.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Checkpoint } from './checkpoint.js';
import { CheckpointError } from './safetensors.js';

export type OnTensor = (name: string) => void;

/**
 * V8 collects large typed arrays late (their memory is outside its heap), so the transients of one big tensor (read,
 * transposed, quantized) would pile up under the next ones. A collection once every 64 MB read keeps peak memory near
 * the output's own size. Exposed once, on first use.
 */
let gc: (() => void) | undefined;
let sinceGc = 0;
function collectBefore(bytes: number): void {
  sinceGc += bytes;
  if (sinceGc < 64 << 20) return;
  sinceGc = bytes;
  collectGarbage();
}

/** A full collection now (also between variants, so one variant's written weights are gone before the next's). */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  sinceGc = 0;
}

/** An object whose properties read their tensor on access. */
function lazy<T>(defs: Record<string, () => Float32Array>): T {
  const o: Record<string, Float32Array> = {};
  for (const [k, f] of Object.entries(defs)) Object.defineProperty(o, k, { get: f, enumerable: true });
  return o as T;
}

/** `weights` holds linear weights as [out, in] rows: build its graph with `weightsAsRows: true`. */
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
      collectBefore(shape.reduce((a, b) => a * b, 4));
      const t = ck.readSync(name, shape);
      onTensor(name);
      return t;
    };
  };
  /** Kept as HF's [out, in] rows: the graph is built with `weightsAsRows`. */
  const linearW = (name: string, out: number, inp: number) => plan(name, [out, inp]);
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
    // Tied embeddings (Qwen2.5-0.5B, SmolLM2): the LM head's rows [vocab, hidden] are the embedding table's.
    lmHead = embed;
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
      collectBefore(shape.reduce((a, b) => a * b, 4));
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
