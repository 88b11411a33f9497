/** Llama-family shape and weights (RMSNorm, rotary, GQA, SwiGLU, own or tied LM head) with a seeded initialiser. */
import { normal, seededRandom } from './seeded-random.js';

// Kept for the rooms that took their PRNG from here before it had its own file (sampling, bench).
export { seededRandom } from './seeded-random.js';

export interface LlamaShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  /** Fewer than `heads` gives grouped-query attention; must divide `heads`. */
  kvHeads: number;
  headDim: number;
  intermediate: number;
  maxPositions: number;
  ropeTheta: number;
  rmsEps: number;
  /** The LM head reads the token embedding (HF `tie_word_embeddings`). */
  tieWordEmbeddings?: boolean;
}

export interface LlamaLayerWeights {
  inNorm: Float32Array;
  wq: Float32Array; // [hidden, heads*headDim]
  wk: Float32Array; // [hidden, kvHeads*headDim]
  wv: Float32Array;
  wo: Float32Array; // [heads*headDim, hidden]
  postNorm: Float32Array;
  wg: Float32Array; // [hidden, intermediate]
  wu: Float32Array;
  wd: Float32Array; // [intermediate, hidden]
}

export interface LlamaWeights {
  embed: Float32Array; // [vocab, hidden]
  layers: LlamaLayerWeights[];
  finalNorm: Float32Array;
  /** [hidden, vocab]; absent when the head is tied to `embed`. */
  lmHead?: Float32Array;
}

/**
 * Logit standard deviation the initialiser aims for. Random models are otherwise nearly indifferent between their top
 * tokens; at ~16 the top-2 margin sits orders of magnitude above fp32 noise (decisiveness.test.ts measures it), so
 * greedy comparisons between runtimes test the runtimes, not float rounding.
 */
export const DEFAULT_LOGIT_SCALE = 16;

function around(rand: () => number, n: number, mean: number): Float32Array {
  return normal(rand, n, 0.1 * mean, mean);
}

/**
 * Random weights scaled per fan-in so activations stay O(1) through the layers. The logit scale goes into the LM head
 * (untied) or into the final norm's gain (tied: the embedding also feeds the first layer and must stay unit-sized).
 */
export function randomLlamaWeights(s: LlamaShape, seed: number, logitScale = DEFAULT_LOGIT_SCALE): LlamaWeights {
  if (s.heads % s.kvHeads !== 0) throw new Error(`heads (${s.heads}) must be a multiple of kvHeads (${s.kvHeads})`);
  if (s.headDim % 2 !== 0) throw new Error(`headDim (${s.headDim}) must be even for rotary embeddings`);
  const rand = seededRandom(seed);
  const d = s.hidden;
  const qd = s.heads * s.headDim;
  const kd = s.kvHeads * s.headDim;
  const layers: LlamaLayerWeights[] = [];
  for (let l = 0; l < s.layers; l++) {
    layers.push({
      inNorm: around(rand, d, 1),
      wq: normal(rand, d * qd, 1 / Math.sqrt(d)),
      wk: normal(rand, d * kd, 1 / Math.sqrt(d)),
      wv: normal(rand, d * kd, 1 / Math.sqrt(d)),
      wo: normal(rand, qd * d, 0.5 / Math.sqrt(qd)),
      postNorm: around(rand, d, 1),
      wg: normal(rand, d * s.intermediate, 1 / Math.sqrt(d)),
      wu: normal(rand, d * s.intermediate, 1 / Math.sqrt(d)),
      wd: normal(rand, s.intermediate * d, 0.5 / Math.sqrt(s.intermediate)),
    });
  }
  const embed = normal(rand, s.vocab * d, 1);
  // Normed hidden states have RMS ~1, so a [d, V] head of std c/sqrt(d), or a unit embedding behind a final gain of
  // c/sqrt(d), gives logits of std ~c.
  if (s.tieWordEmbeddings) return { embed, layers, finalNorm: around(rand, d, logitScale / Math.sqrt(d)) };
  return { embed, layers, finalNorm: around(rand, d, 1), lmHead: normal(rand, d * s.vocab, logitScale / Math.sqrt(d)) };
}

/** Rotary tables [maxPositions, headDim/2] (HF's rotate_half convention, inv_freq = theta^(-2i/headDim)). */
export function ropeTables(s: LlamaShape): { cos: Float32Array; sin: Float32Array } {
  const half = s.headDim / 2;
  const cos = new Float32Array(s.maxPositions * half);
  const sin = new Float32Array(s.maxPositions * half);
  for (let p = 0; p < s.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const inv = 1 / Math.pow(s.ropeTheta, (2 * i) / s.headDim);
      cos[p * half + i] = Math.cos(p * inv);
      sin[p * half + i] = Math.sin(p * inv);
    }
  }
  return { cos, sin };
}
