/**
 * A checkpoint's config.json mapped onto the shapes our graph builders take: the Llama family (Llama 2/3, Mistral,
 * SmolLM, TinyLlama, Qwen2/2.5) and GPT-2. Rope scaling follows transformers' rope init functions (default, linear,
 * dynamic within the trained length, llama3, yarn). Anything that would change the math we do not build is refused
 * with the file and field named, rather than converted into a model that silently differs.
 */
import { z } from 'zod';
import type { LlamaShape } from '../graph/llama-weights.js';
import type { Gpt2Shape } from '../graph/gpt2-weights.js';
import { CheckpointError } from './safetensors.js';

const LLAMA_TYPES = ['llama', 'mistral', 'qwen2'] as const;

const ropeScaling = z
  .looseObject({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    rope_theta: z.number().positive().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
    original_max_position_embeddings: z.number().int().positive().optional(),
    attention_factor: z.number().optional(),
    beta_fast: z.number().optional(),
    beta_slow: z.number().optional(),
    mscale: z.number().optional(),
    mscale_all_dim: z.number().optional(),
    truncate: z.boolean().optional(),
  })
  .nullish();

const llamaConfig = z.looseObject({
  model_type: z.enum(LLAMA_TYPES),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
  vocab_size: z.number().int().positive(),
  max_position_embeddings: z.number().int().positive(),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().optional(),
  rope_scaling: ropeScaling,
  rope_parameters: ropeScaling,
  hidden_act: z.string().default('silu'),
  tie_word_embeddings: z.boolean().optional(),
  sliding_window: z.number().int().positive().nullish(),
  use_sliding_window: z.boolean().optional(),
  partial_rotary_factor: z.number().optional(),
});

const gpt2Config = z.looseObject({
  model_type: z.literal('gpt2'),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_positions: z.number().int().positive(),
  n_inner: z.number().int().positive().nullish(),
  vocab_size: z.number().int().positive(),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  activation_function: z.string().default('gelu_new'),
  scale_attn_weights: z.boolean().default(true),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false),
  reorder_and_upcast_attn: z.boolean().default(false),
});

export type LlamaConfig = z.infer<typeof llamaConfig>;

export interface RopeSpec {
  /** Inverse frequency per rotary pair (headDim / 2 of them). */
  invFreq: Float64Array;
  /** cos and sin are multiplied by this (yarn's attention scaling; 1 otherwise). */
  attentionFactor: number;
  kind: string;
}

export type ArchSpec =
  | {
      family: 'llama';
      modelType: (typeof LLAMA_TYPES)[number];
      shape: LlamaShape;
      rope: RopeSpec;
      tieWordEmbeddings: boolean | undefined;
      notes: string[];
    }
  | { family: 'gpt2'; modelType: 'gpt2'; shape: Gpt2Shape; notes: string[] };

function fail(path: string, field: string, message: string): never {
  throw new CheckpointError(`${path}: field '${field}': ${message}`);
}

function parse<T>(schema: z.ZodType<T>, raw: unknown, path: string): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  return fail(path, issue.path.join('.') || '(root)', issue.message);
}

/** Maps a parsed config.json (at `path`, for messages) onto an architecture we can build. */
export function archFromConfig(raw: unknown, path: string, opts: { maxContext?: number } = {}): ArchSpec {
  const modelType = (raw as { model_type?: unknown } | null)?.model_type;
  if (modelType === 'gpt2') {
    const c = parse(gpt2Config, raw, path);
    if (c.n_embd % c.n_head !== 0) fail(path, 'n_embd', `${c.n_embd} is not divisible by n_head ${c.n_head}`);
    if (c.n_inner != null && c.n_inner !== 4 * c.n_embd) fail(path, 'n_inner', `${c.n_inner}: only 4 * n_embd is supported`);
    if (c.activation_function !== 'gelu_new') fail(path, 'activation_function', `'${c.activation_function}' is not supported (only gelu_new)`);
    if (!c.scale_attn_weights || c.scale_attn_by_inverse_layer_idx || c.reorder_and_upcast_attn) {
      fail(path, 'scale_attn_weights', 'only standard 1/sqrt(head_dim) attention scaling is supported');
    }
    const notes: string[] = [];
    const maxPositions = Math.min(c.n_positions, opts.maxContext ?? Infinity);
    if (maxPositions < c.n_positions) notes.push(`context capped at ${maxPositions} of ${c.n_positions}`);
    return {
      family: 'gpt2',
      modelType: 'gpt2',
      shape: { vocab: c.vocab_size, hidden: c.n_embd, layers: c.n_layer, heads: c.n_head, maxPositions, lnEps: c.layer_norm_epsilon },
      notes,
    };
  }
  if (typeof modelType !== 'string' || !(LLAMA_TYPES as readonly string[]).includes(modelType)) {
    fail(path, 'model_type', `'${String(modelType)}' is not supported (supported: ${[...LLAMA_TYPES, 'gpt2'].join(', ')})`);
  }
  const c = parse(llamaConfig, raw, path);
  if (c.hidden_act !== 'silu') fail(path, 'hidden_act', `'${c.hidden_act}' is not supported (only silu)`);
  if (c.partial_rotary_factor != null && c.partial_rotary_factor !== 1)
    fail(path, 'partial_rotary_factor', 'partial rotary embeddings are not supported');
  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  if (heads % kvHeads !== 0) fail(path, 'num_key_value_heads', `${kvHeads} does not divide num_attention_heads ${heads}`);
  const headDim = c.head_dim ?? c.hidden_size / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) fail(path, 'head_dim', `${headDim} is not an even integer`);
  const notes: string[] = [];
  let maxPositions = c.max_position_embeddings;
  // Mistral-style sliding windows: identical to full attention as long as the context fits in the window.
  const windowed = c.sliding_window != null && c.use_sliding_window !== false;
  if (windowed && c.sliding_window! < maxPositions) {
    maxPositions = c.sliding_window!;
    notes.push(`context limited to the sliding window (${maxPositions}); full attention is exact there`);
  }
  if (opts.maxContext && opts.maxContext < maxPositions) {
    maxPositions = opts.maxContext;
    notes.push(`context capped at ${maxPositions}`);
  }
  const scaling = c.rope_scaling ?? c.rope_parameters ?? undefined;
  const ropeTheta = c.rope_theta ?? scaling?.rope_theta ?? 10000;
  const rope = ropeSpec(scaling ?? null, { headDim, ropeTheta, maxPositionEmbeddings: c.max_position_embeddings }, path);
  return {
    family: 'llama',
    modelType: c.model_type,
    shape: {
      vocab: c.vocab_size,
      hidden: c.hidden_size,
      layers: c.num_hidden_layers,
      heads,
      kvHeads,
      headDim,
      intermediate: c.intermediate_size,
      maxPositions,
      ropeTheta,
      rmsEps: c.rms_norm_eps,
    },
    rope,
    tieWordEmbeddings: c.tie_word_embeddings,
    notes,
  };
}

/** transformers' `ROPE_INIT_FUNCTIONS` for the kinds these model families ship with. */
export function ropeSpec(
  scaling: z.infer<typeof ropeScaling> | null,
  m: { headDim: number; ropeTheta: number; maxPositionEmbeddings: number },
  path: string,
): RopeSpec {
  const half = m.headDim / 2;
  const base = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(m.ropeTheta, (2 * i) / m.headDim));
  const kind = scaling?.rope_type ?? scaling?.type ?? 'default';
  const factor = scaling?.factor ?? 1;
  switch (kind) {
    case 'default':
    // Dynamic NTK only changes frequencies past the trained length, which the converted model never reaches.
    case 'dynamic':
      return { invFreq: base, attentionFactor: 1, kind };
    case 'linear':
      return { invFreq: base.map((f) => f / factor), attentionFactor: 1, kind };
    case 'llama3': {
      const low = scaling?.low_freq_factor ?? 1;
      const high = scaling?.high_freq_factor ?? 4;
      const old = scaling?.original_max_position_embeddings ?? fail(path, 'rope_scaling.original_max_position_embeddings', 'required for llama3');
      const lowWavelen = old / low;
      const highWavelen = old / high;
      const invFreq = base.map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < highWavelen) return f;
        if (wavelen > lowWavelen) return f / factor;
        const smooth = (old / wavelen - low) / (high - low);
        return (1 - smooth) * (f / factor) + smooth * f;
      });
      return { invFreq, attentionFactor: 1, kind };
    }
    case 'yarn': {
      const dim = m.headDim;
      const orig = scaling?.original_max_position_embeddings ?? m.maxPositionEmbeddings;
      const getMscale = (scale: number, ms = 1) => (scale <= 1 ? 1 : 0.1 * ms * Math.log(scale) + 1);
      let attentionFactor = scaling?.attention_factor;
      if (attentionFactor == null) {
        attentionFactor =
          scaling?.mscale && scaling?.mscale_all_dim
            ? getMscale(factor, scaling.mscale) / getMscale(factor, scaling.mscale_all_dim)
            : getMscale(factor);
      }
      const betaFast = scaling?.beta_fast ?? 32;
      const betaSlow = scaling?.beta_slow ?? 1;
      const corrDim = (rot: number) => (dim * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(m.ropeTheta));
      const truncate = scaling?.truncate ?? true;
      let lo = corrDim(betaFast);
      let hi = corrDim(betaSlow);
      if (truncate) {
        lo = Math.floor(lo);
        hi = Math.ceil(hi);
      }
      lo = Math.max(lo, 0);
      hi = Math.min(hi, dim - 1);
      if (lo === hi) hi += 0.001;
      const invFreq = base.map((f, i) => {
        const ramp = Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
        const extrapolation = 1 - ramp;
        return (f / factor) * (1 - extrapolation) + f * extrapolation;
      });
      return { invFreq, attentionFactor, kind };
    }
    default:
      return fail(path, 'rope_scaling.rope_type', `'${kind}' is not supported (supported: default, linear, dynamic, llama3, yarn)`);
  }
}

/** Rotary tables [maxPositions, headDim/2] from inverse frequencies (HF's rotate_half convention). */
export function ropeTablesFrom(rope: RopeSpec, maxPositions: number): { cos: Float32Array; sin: Float32Array } {
  const half = rope.invFreq.length;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * rope.invFreq[i]!;
      cos[p * half + i] = Math.cos(a) * rope.attentionFactor;
      sin[p * half + i] = Math.sin(a) * rope.attentionFactor;
    }
  }
  return { cos, sin };
}
