/**
 * Writes a built model folder's Llama weights (read back from its fp32 onnx/model.onnx, so they are exactly the weights
 * the edge runtime and transformers.js run) as a GGUF file for llama.cpp: architecture `llama`, GPT-2 style BPE
 * tokenizer from the folder's tokenizer.json. As llama.cpp's convert_hf_to_gguf.py does, Q and K projection rows are
 * permuted from Hugging Face's rotate-half rotary layout to llama.cpp's interleaved pairs, and [in, out] matrices are
 * stored as ggml [ne0 = in, ne1 = out]. The token embedding and norms stay f32 in every variant (the ONNX graphs
 * keep them f32 too); the linear layers and the LM head are F32, Q8_0 or Q4_0.
 */
import { existsSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readInitializers } from '../../edge-runtime/graph/graph-builder.js';
import { FILE_TYPE, GGML_TYPE, GgufWriter, type GgmlType } from './gguf-writer.js';

export type GgufVariant = 'f32' | 'q8_0' | 'q4_0';
const TYPES: Record<GgufVariant, { type: GgmlType; fileType: number }> = {
  f32: { type: GGML_TYPE.F32, fileType: FILE_TYPE.ALL_F32 },
  q8_0: { type: GGML_TYPE.Q8_0, fileType: FILE_TYPE.MOSTLY_Q8_0 },
  q4_0: { type: GGML_TYPE.Q4_0, fileType: FILE_TYPE.MOSTLY_Q4_0 },
};

interface HfConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
}

/** [K, N] row-major (x @ W) -> [N, K] row-major (ggml rows = output features). */
function transpose(w: Float32Array, K: number, N: number): Float32Array {
  const out = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    const row = k * N;
    for (let n = 0; n < N; n++) out[n * K + k] = w[row + n]!;
  }
  return out;
}

/** Rows of one head [t*half + i] -> [2i + t]: HF rotate-half to llama.cpp's interleaved rotary (convert_hf_to_gguf permute). */
function permuteRotary(rows: Float32Array, heads: number, headDim: number, K: number): Float32Array {
  const out = new Float32Array(rows.length);
  const half = headDim / 2;
  for (let h = 0; h < heads; h++) {
    for (let t = 0; t < 2; t++) {
      for (let i = 0; i < half; i++) {
        const src = (h * headDim + t * half + i) * K;
        const dst = (h * headDim + 2 * i + t) * K;
        out.set(rows.subarray(src, src + K), dst);
      }
    }
  }
  return out;
}

/** Writes `<dir>/model-<variant>.gguf` once (cached next to the ONNX files); returns its path. */
export function writeLlamaGguf(dir: string, variant: GgufVariant): string {
  const out = join(dir, `model-${variant}.gguf`);
  if (existsSync(out) && statSync(out).size > 0) return out;
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HfConfig;
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: Array<string | [string, string]> };
    added_tokens: Array<{ id: number; content: string; special: boolean }>;
  };
  const w = readInitializers(readFileSync(join(dir, 'onnx', 'model.onnx')));
  const get = (name: string) => {
    const t = w.get(name);
    if (!t) throw new Error(`gguf: ${name} not in model.onnx`);
    return t.data;
  };
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const KV = cfg.num_key_value_heads;
  const HD = cfg.head_dim;
  const I = cfg.intermediate_size;
  const V = cfg.vocab_size;
  const { type, fileType } = TYPES[variant];

  const tokens = new Array<string>(V);
  for (const [text, id] of Object.entries(tok.model.vocab)) tokens[id] = text;
  for (const a of tok.added_tokens) tokens[a.id] = a.content;
  const special = new Set(tok.added_tokens.filter((a) => a.special).map((a) => a.id));
  const merges = tok.model.merges.map((m) => (typeof m === 'string' ? m : m.join(' ')));

  const g = new GgufWriter()
    .string('general.architecture', 'llama')
    .string('general.name', `switchyard-${dir.split('/').pop()}`)
    .u32('general.file_type', fileType)
    .u32('general.quantization_version', 2)
    .u32('llama.context_length', cfg.max_position_embeddings)
    .u32('llama.embedding_length', D)
    .u32('llama.block_count', cfg.num_hidden_layers)
    .u32('llama.feed_forward_length', I)
    .u32('llama.attention.head_count', H)
    .u32('llama.attention.head_count_kv', KV)
    .u32('llama.attention.key_length', HD)
    .u32('llama.attention.value_length', HD)
    .u32('llama.rope.dimension_count', HD)
    .f32('llama.rope.freq_base', cfg.rope_theta)
    .f32('llama.attention.layer_norm_rms_epsilon', cfg.rms_norm_eps)
    .u32('llama.vocab_size', V)
    .string('tokenizer.ggml.model', 'gpt2')
    .string('tokenizer.ggml.pre', 'default')
    .strings('tokenizer.ggml.tokens', tokens)
    .i32s(
      'tokenizer.ggml.token_type',
      tokens.map((_, i) => (special.has(i) ? 3 : 1)),
    )
    .strings('tokenizer.ggml.merges', merges)
    .u32('tokenizer.ggml.bos_token_id', cfg.bos_token_id)
    .u32('tokenizer.ggml.eos_token_id', cfg.eos_token_id)
    .u32('tokenizer.ggml.padding_token_id', cfg.pad_token_id)
    .bool('tokenizer.ggml.add_bos_token', false)
    .bool('tokenizer.ggml.add_eos_token', false);

  g.tensor('token_embd.weight', [D, V], get('model.embed_tokens.weight'), GGML_TYPE.F32);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const lin = (name: string, K: number, N: number) => transpose(get(`${p}.${name}.weight`), K, N);
    g.tensor(`blk.${l}.attn_norm.weight`, [D], get(`${p}.input_layernorm.weight`), GGML_TYPE.F32);
    g.tensor(`blk.${l}.attn_q.weight`, [D, H * HD], permuteRotary(lin('self_attn.q_proj', D, H * HD), H, HD, D), type);
    g.tensor(`blk.${l}.attn_k.weight`, [D, KV * HD], permuteRotary(lin('self_attn.k_proj', D, KV * HD), KV, HD, D), type);
    g.tensor(`blk.${l}.attn_v.weight`, [D, KV * HD], lin('self_attn.v_proj', D, KV * HD), type);
    g.tensor(`blk.${l}.attn_output.weight`, [H * HD, D], lin('self_attn.o_proj', H * HD, D), type);
    g.tensor(`blk.${l}.ffn_norm.weight`, [D], get(`${p}.post_attention_layernorm.weight`), GGML_TYPE.F32);
    g.tensor(`blk.${l}.ffn_gate.weight`, [D, I], lin('mlp.gate_proj', D, I), type);
    g.tensor(`blk.${l}.ffn_up.weight`, [D, I], lin('mlp.up_proj', D, I), type);
    g.tensor(`blk.${l}.ffn_down.weight`, [I, D], lin('mlp.down_proj', I, D), type);
  }
  g.tensor('output_norm.weight', [D], get('model.norm.weight'), GGML_TYPE.F32);
  g.tensor('output.weight', [D, V], transpose(get('lm_head.weight'), D, V), type);
  const tmp = `${out}.tmp-${process.pid}`;
  g.write(tmp);
  renameSync(tmp, out);
  return out;
}
