/** GPT-2-family shape and weights (LayerNorm, learned positions, fused QKV, GELU MLP, tied LM head), seeded. */
import { normal, seededRandom } from './seeded-random.js';
import { DEFAULT_LOGIT_SCALE } from './llama-weights.js';

export { transpose } from './seeded-random.js';

export interface Gpt2Shape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  maxPositions: number;
  lnEps: number;
}

export interface Gpt2LayerWeights {
  ln1g: Float32Array; ln1b: Float32Array;
  attnW: Float32Array; attnB: Float32Array; // [D, 3D] (HF Conv1D layout: x @ W)
  projW: Float32Array; projB: Float32Array; // [D, D]
  ln2g: Float32Array; ln2b: Float32Array;
  fcW: Float32Array; fcB: Float32Array; // [D, 4D]
  fc2W: Float32Array; fc2B: Float32Array; // [4D, D]
}

export interface Gpt2Weights {
  wte: Float32Array; // [V, D]
  wpe: Float32Array; // [P, D]
  layers: Gpt2LayerWeights[];
  lnfG: Float32Array;
  lnfB: Float32Array;
}

/**
 * The head is the (unit-std) token embedding, so the logit scale lives in ln_f's gain: c/sqrt(D) against normed
 * hidden states of RMS ~1 gives logits of std ~c (see DEFAULT_LOGIT_SCALE).
 */
export function randomGpt2Weights(s: Gpt2Shape, seed: number, logitScale = DEFAULT_LOGIT_SCALE): Gpt2Weights {
  if (s.hidden % s.heads !== 0) throw new Error(`hidden (${s.hidden}) must be a multiple of heads (${s.heads})`);
  const rand = seededRandom(seed);
  const D = s.hidden;
  const layers: Gpt2LayerWeights[] = [];
  for (let l = 0; l < s.layers; l++) {
    layers.push({
      ln1g: normal(rand, D, 0.1, 1), ln1b: normal(rand, D, 0.02),
      attnW: normal(rand, D * 3 * D, 1 / Math.sqrt(D)), attnB: normal(rand, 3 * D, 0.02),
      projW: normal(rand, D * D, 0.5 / Math.sqrt(D)), projB: normal(rand, D, 0.02),
      ln2g: normal(rand, D, 0.1, 1), ln2b: normal(rand, D, 0.02),
      fcW: normal(rand, D * 4 * D, 1 / Math.sqrt(D)), fcB: normal(rand, 4 * D, 0.02),
      fc2W: normal(rand, 4 * D * D, 0.5 / Math.sqrt(4 * D)), fc2B: normal(rand, D, 0.02),
    });
  }
  const gain = logitScale / Math.sqrt(D);
  return {
    wte: normal(rand, s.vocab * D, 1),
    wpe: normal(rand, s.maxPositions * D, 0.5),
    layers,
    lnfG: normal(rand, D, 0.1 * gain, gain),
    lnfB: normal(rand, D, 0.02 * gain),
  };
}
