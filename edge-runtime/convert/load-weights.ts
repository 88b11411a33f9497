/**
 * Reads a checkpoint's tensors by their Hugging Face names into the weight structs our graph builders take, checking
 * every shape against config.json. HF linear weights are [out, in]; the builders take [in, out] (x @ W), so Llama
 * projections are transposed here. GPT-2's Conv1D weights are already [in, out].
 */
import type { LlamaShape, LlamaWeights, LlamaLayerWeights } from '../graph/llama-weights.js';
import type { LlamaBiases, LlamaGraphExtras } from '../graph/llama-graph.js';
import type { Gpt2Shape, Gpt2Weights, Gpt2LayerWeights } from '../graph/gpt2-weights.js';
import { transposeMatrix } from '../graph/quantize.js';
import type { Checkpoint } from './checkpoint.js';
import { CheckpointError } from './safetensors.js';

export type OnTensor = (name: string) => void;

export interface LoadedLlama {
  weights: LlamaWeights & LlamaGraphExtras;
  tied: boolean;
  used: Set<string>;
}

export async function loadLlamaWeights(
  ck: Checkpoint,
  s: LlamaShape,
  tieConfig: boolean | undefined,
  onTensor: OnTensor = () => {},
): Promise<LoadedLlama> {
  const used = new Set<string>();
  const { hidden: D, heads: H, kvHeads: KV, headDim: HD, intermediate: I, vocab: V } = s;
  const read = async (name: string, shape: number[]) => {
    used.add(name);
    const t = await ck.read(name, shape);
    onTensor(name);
    return t;
  };
  /** HF [out, in] -> [in, out]. */
  const linearW = async (name: string, out: number, inp: number) => transposeMatrix(await read(name, [out, inp]), out, inp);
  const embed = await read('model.embed_tokens.weight', [V, D]);
  const layers: LlamaLayerWeights[] = [];
  const biases: LlamaBiases[] = [];
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    const b: LlamaBiases = {};
    const dims: Record<keyof LlamaBiases, [string, number]> = {
      q: ['self_attn.q_proj', H * HD],
      k: ['self_attn.k_proj', KV * HD],
      v: ['self_attn.v_proj', KV * HD],
      o: ['self_attn.o_proj', D],
      gate: ['mlp.gate_proj', I],
      up: ['mlp.up_proj', I],
      down: ['mlp.down_proj', D],
    };
    for (const [key, [name, n]] of Object.entries(dims) as Array<[keyof LlamaBiases, [string, number]]>) {
      if (ck.has(`${p}.${name}.bias`)) b[key] = await read(`${p}.${name}.bias`, [n]);
    }
    biases.push(b);
    layers.push({
      inNorm: await read(`${p}.input_layernorm.weight`, [D]),
      wq: await linearW(`${p}.self_attn.q_proj.weight`, H * HD, D),
      wk: await linearW(`${p}.self_attn.k_proj.weight`, KV * HD, D),
      wv: await linearW(`${p}.self_attn.v_proj.weight`, KV * HD, D),
      wo: await linearW(`${p}.self_attn.o_proj.weight`, D, H * HD),
      postNorm: await read(`${p}.post_attention_layernorm.weight`, [D]),
      wg: await linearW(`${p}.mlp.gate_proj.weight`, I, D),
      wu: await linearW(`${p}.mlp.up_proj.weight`, I, D),
      wd: await linearW(`${p}.mlp.down_proj.weight`, D, I),
    });
  }
  const finalNorm = await read('model.norm.weight', [D]);
  let lmHead: Float32Array;
  let tied = false;
  if (ck.has('lm_head.weight')) {
    lmHead = await linearW('lm_head.weight', V, D);
  } else if (tieConfig === false) {
    throw new CheckpointError(`${ck.dir}: no tensor 'lm_head.weight' and config.json sets tie_word_embeddings: false`);
  } else {
    // Tied embeddings (Qwen2.5-0.5B, SmolLM2): the LM head is the embedding table read as [hidden, vocab].
    lmHead = transposeMatrix(embed, V, D);
    tied = true;
  }
  return { weights: { embed, layers, finalNorm, lmHead, biases }, tied, used };
}

/** GPT-2 checkpoints name tensors with or without the `transformer.` prefix (the original upload has none). */
function gpt2Prefix(ck: Checkpoint): string {
  if (ck.has('transformer.wte.weight')) return 'transformer.';
  if (ck.has('wte.weight')) return '';
  throw new CheckpointError(`${ck.dir}: no tensor 'transformer.wte.weight' (or 'wte.weight'): not a GPT-2 checkpoint`);
}

export async function loadGpt2Weights(
  ck: Checkpoint,
  s: Gpt2Shape,
  trainedPositions: number,
  onTensor: OnTensor = () => {},
): Promise<{ weights: Gpt2Weights; used: Set<string> }> {
  const used = new Set<string>();
  const pre = gpt2Prefix(ck);
  const D = s.hidden;
  const read = async (name: string, shape: number[]) => {
    used.add(pre + name);
    const t = await ck.read(pre + name, shape);
    onTensor(pre + name);
    return t;
  };
  const wte = await read('wte.weight', [s.vocab, D]);
  // A context cap keeps only the first rows of the learned position table.
  const wpe = (await read('wpe.weight', [trainedPositions, D])).slice(0, s.maxPositions * D);
  const layers: Gpt2LayerWeights[] = [];
  for (let l = 0; l < s.layers; l++) {
    const p = `h.${l}`;
    layers.push({
      ln1g: await read(`${p}.ln_1.weight`, [D]),
      ln1b: await read(`${p}.ln_1.bias`, [D]),
      attnW: await read(`${p}.attn.c_attn.weight`, [D, 3 * D]),
      attnB: await read(`${p}.attn.c_attn.bias`, [3 * D]),
      projW: await read(`${p}.attn.c_proj.weight`, [D, D]),
      projB: await read(`${p}.attn.c_proj.bias`, [D]),
      ln2g: await read(`${p}.ln_2.weight`, [D]),
      ln2b: await read(`${p}.ln_2.bias`, [D]),
      fcW: await read(`${p}.mlp.c_fc.weight`, [D, 4 * D]),
      fcB: await read(`${p}.mlp.c_fc.bias`, [4 * D]),
      fc2W: await read(`${p}.mlp.c_proj.weight`, [4 * D, D]),
      fc2B: await read(`${p}.mlp.c_proj.bias`, [D]),
    });
  }
  const lnfG = await read('ln_f.weight', [D]);
  const lnfB = await read('ln_f.bias', [D]);
  // GPT-2's head is always the embedding table; a stored lm_head.weight is the same tensor.
  if (ck.has('lm_head.weight')) used.add('lm_head.weight');
  return { weights: { wte, wpe, layers, lnfG, lnfB }, used };
}

/** Tensors a checkpoint holds that the conversion did not use, minus buffers HF saves that carry no weights. */
export function unusedTensors(ck: Checkpoint, used: Set<string>): string[] {
  const buffers = /(\.attn\.(masked_)?bias|rotary_emb\.inv_freq)$/;
  return ck.names().filter((n) => !used.has(n) && !buffers.test(n));
}
