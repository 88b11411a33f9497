/**
 * Writes random checkpoints in the Hugging Face layout (config.json, safetensors single or sharded with an index,
 * tokenizer files) for tests and the bench: the same tensor names and [out, in] layouts transformers saves, so the
 * converter is exercised exactly as on a downloaded model. Nothing is downloaded.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomLlamaWeights, seededRandom, type LlamaShape } from '../graph/llama-weights.js';
import { randomGpt2Weights, type Gpt2Shape } from '../graph/gpt2-weights.js';
import { transposeMatrix } from '../graph/quantize.js';
import { CHATML_TEMPLATE, writeByteLevelTokenizer } from '../tokenizer/byte-level-bpe.js';
import { encodeSafetensors, type FloatDtype, type TensorToWrite } from './safetensors.js';

export interface LlamaCheckpointSpec {
  family: 'llama' | 'qwen2' | 'mistral';
  /** vocab is taken from the tokenizer when `merges` is given. */
  shape: Omit<LlamaShape, 'vocab'>;
  merges?: number;
  biases?: boolean;
  tied?: boolean;
  ropeScaling?: Record<string, unknown>;
}

export interface Gpt2CheckpointSpec {
  family: 'gpt2';
  shape: Omit<Gpt2Shape, 'vocab'>;
  merges?: number;
  /** Names without the `transformer.` prefix, as the original gpt2 upload has them. */
  bareNames?: boolean;
}

export interface WriteCheckpointOptions {
  dir: string;
  spec: LlamaCheckpointSpec | Gpt2CheckpointSpec;
  dtype?: FloatDtype;
  shards?: number;
  seed?: number;
}

function small(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * std * Math.sqrt(3);
  return out;
}

export async function writeTestCheckpoint(opts: WriteCheckpointOptions): Promise<{ dir: string; vocab: number }> {
  const { spec } = opts;
  const dtype = opts.dtype ?? 'F32';
  const seed = opts.seed ?? 1;
  const tok = writeByteLevelTokenizer(spec.merges ?? 0);
  const V = tok.vocabSize;
  const eos = tok.specialIds['<|im_end|>'];
  const bos = tok.specialIds['<|endoftext|>'];
  const tensors: Record<string, TensorToWrite> = {};
  const put = (name: string, shape: number[], data: Float32Array) => (tensors[name] = { dtype, shape, data });
  let config: Record<string, unknown>;
  if (spec.family === 'gpt2') {
    const s: Gpt2Shape = { ...spec.shape, vocab: V };
    const w = randomGpt2Weights(s, seed);
    const D = s.hidden;
    const p = spec.bareNames ? '' : 'transformer.';
    put(`${p}wte.weight`, [V, D], w.wte);
    put(`${p}wpe.weight`, [s.maxPositions, D], w.wpe);
    w.layers.forEach((l, i) => {
      const h = `${p}h.${i}`;
      put(`${h}.ln_1.weight`, [D], l.ln1g);
      put(`${h}.ln_1.bias`, [D], l.ln1b);
      put(`${h}.attn.c_attn.weight`, [D, 3 * D], l.attnW);
      put(`${h}.attn.c_attn.bias`, [3 * D], l.attnB);
      put(`${h}.attn.c_proj.weight`, [D, D], l.projW);
      put(`${h}.attn.c_proj.bias`, [D], l.projB);
      put(`${h}.ln_2.weight`, [D], l.ln2g);
      put(`${h}.ln_2.bias`, [D], l.ln2b);
      put(`${h}.mlp.c_fc.weight`, [D, 4 * D], l.fcW);
      put(`${h}.mlp.c_fc.bias`, [4 * D], l.fcB);
      put(`${h}.mlp.c_proj.weight`, [4 * D, D], l.fc2W);
      put(`${h}.mlp.c_proj.bias`, [D], l.fc2B);
    });
    put(`${p}ln_f.weight`, [D], w.lnfG);
    put(`${p}ln_f.bias`, [D], w.lnfB);
    config = {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: D,
      n_layer: s.layers,
      n_head: s.heads,
      n_positions: s.maxPositions,
      n_ctx: s.maxPositions,
      n_inner: null,
      vocab_size: V,
      layer_norm_epsilon: s.lnEps,
      activation_function: 'gelu_new',
    };
  } else {
    const s: LlamaShape = { ...spec.shape, vocab: V };
    const w = randomLlamaWeights(s, seed);
    const rand = seededRandom(seed + 1000);
    const { hidden: D, heads: H, kvHeads: KV, headDim: HD, intermediate: I } = s;
    /** Built weights are [in, out]; HF stores [out, in]. */
    const hf = (x: Float32Array, inp: number, out: number) => transposeMatrix(x, inp, out);
    put('model.embed_tokens.weight', [V, D], w.embed);
    w.layers.forEach((l, i) => {
      const p = `model.layers.${i}`;
      put(`${p}.input_layernorm.weight`, [D], l.inNorm);
      put(`${p}.self_attn.q_proj.weight`, [H * HD, D], hf(l.wq, D, H * HD));
      put(`${p}.self_attn.k_proj.weight`, [KV * HD, D], hf(l.wk, D, KV * HD));
      put(`${p}.self_attn.v_proj.weight`, [KV * HD, D], hf(l.wv, D, KV * HD));
      put(`${p}.self_attn.o_proj.weight`, [D, H * HD], hf(l.wo, H * HD, D));
      if (spec.biases) {
        put(`${p}.self_attn.q_proj.bias`, [H * HD], small(rand, H * HD, 0.5));
        put(`${p}.self_attn.k_proj.bias`, [KV * HD], small(rand, KV * HD, 0.5));
        put(`${p}.self_attn.v_proj.bias`, [KV * HD], small(rand, KV * HD, 0.5));
      }
      put(`${p}.post_attention_layernorm.weight`, [D], l.postNorm);
      put(`${p}.mlp.gate_proj.weight`, [I, D], hf(l.wg, D, I));
      put(`${p}.mlp.up_proj.weight`, [I, D], hf(l.wu, D, I));
      put(`${p}.mlp.down_proj.weight`, [D, I], hf(l.wd, I, D));
    });
    put('model.norm.weight', [D], w.finalNorm);
    if (!spec.tied) put('lm_head.weight', [V, D], hf(w.lmHead, D, V));
    const arch = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' }[spec.family];
    config = {
      architectures: [arch],
      model_type: spec.family,
      hidden_size: D,
      intermediate_size: I,
      num_hidden_layers: s.layers,
      num_attention_heads: H,
      num_key_value_heads: KV,
      ...(HD !== D / H ? { head_dim: HD } : {}),
      vocab_size: V,
      max_position_embeddings: s.maxPositions,
      rms_norm_eps: s.rmsEps,
      rope_theta: s.ropeTheta,
      rope_scaling: spec.ropeScaling ?? null,
      hidden_act: 'silu',
      tie_word_embeddings: spec.tied === true,
      ...(spec.family === 'qwen2' ? { use_sliding_window: false, sliding_window: 4096 } : {}),
    };
  }
  Object.assign(config, {
    bos_token_id: bos,
    eos_token_id: eos,
    torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'BF16' ? 'bfloat16' : 'float16',
  });
  await rm(opts.dir, { recursive: true, force: true });
  await mkdir(opts.dir, { recursive: true });
  await writeFile(join(opts.dir, 'config.json'), JSON.stringify(config, null, 2));
  await writeFile(join(opts.dir, 'generation_config.json'), JSON.stringify({ bos_token_id: bos, eos_token_id: eos }, null, 2));
  await writeFile(join(opts.dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  await writeFile(
    join(opts.dir, 'tokenizer_config.json'),
    JSON.stringify(
      { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<|endoftext|>', eos_token: '<|im_end|>', chat_template: CHATML_TEMPLATE },
      null,
      2,
    ),
  );
  await writeFile(join(opts.dir, 'special_tokens_map.json'), JSON.stringify({ bos_token: '<|endoftext|>', eos_token: '<|im_end|>' }, null, 2));
  const shards = opts.shards ?? 1;
  const names = Object.keys(tensors);
  if (shards <= 1) {
    await writeFile(join(opts.dir, 'model.safetensors'), encodeSafetensors(tensors));
  } else {
    const pad = (n: number) => String(n).padStart(5, '0');
    const weightMap: Record<string, string> = {};
    let total = 0;
    const per = Math.ceil(names.length / shards);
    for (let i = 0; i < shards; i++) {
      const file = `model-${pad(i + 1)}-of-${pad(shards)}.safetensors`;
      const part: Record<string, TensorToWrite> = {};
      for (const n of names.slice(i * per, (i + 1) * per)) {
        part[n] = tensors[n]!;
        weightMap[n] = file;
      }
      const bytes = encodeSafetensors(part);
      total += bytes.length;
      await writeFile(join(opts.dir, file), bytes);
    }
    await writeFile(
      join(opts.dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2),
    );
  }
  return { dir: opts.dir, vocab: V };
}
