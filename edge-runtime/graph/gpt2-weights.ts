/** GPT-2-family weights (LayerNorm, learned positions, fused QKV, GELU MLP, tied LM head) and a seeded initialiser. */
import { seededRandom } from './llama-weights.js';

export interface Gpt2Shape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  maxPositions: number;
  lnEps: number;
}

export interface Gpt2LayerWeights {
  ln1g: Float32Array;
  ln1b: Float32Array;
  attnW: Float32Array;
  attnB: Float32Array; // [D, 3D]
  projW: Float32Array;
  projB: Float32Array; // [D, D]
  ln2g: Float32Array;
  ln2b: Float32Array;
  fcW: Float32Array;
  fcB: Float32Array; // [D, 4D]
  fc2W: Float32Array;
  fc2B: Float32Array; // [4D, D]
}

export interface Gpt2Weights {
  wte: Float32Array; // [V, D]
  wpe: Float32Array; // [P, D]
  layers: Gpt2LayerWeights[];
  lnfG: Float32Array;
  lnfB: Float32Array;
}

function normal(rand: () => number, n: number, std: number, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = mean + r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** The tied head reads the embedding: embeddings of std 1 against unit-variance hidden states give logits of std ~sqrt(D): decisive. */
export function randomGpt2Weights(s: Gpt2Shape, seed: number): Gpt2Weights {
  const rand = seededRandom(seed);
  const D = s.hidden;
  const layers: Gpt2LayerWeights[] = [];
  for (let l = 0; l < s.layers; l++) {
    layers.push({
      ln1g: normal(rand, D, 0.1, 1),
      ln1b: normal(rand, D, 0.02),
      attnW: normal(rand, D * 3 * D, 1 / Math.sqrt(D)),
      attnB: normal(rand, 3 * D, 0.02),
      projW: normal(rand, D * D, 0.5 / Math.sqrt(D)),
      projB: normal(rand, D, 0.02),
      ln2g: normal(rand, D, 0.1, 1),
      ln2b: normal(rand, D, 0.02),
      fcW: normal(rand, D * 4 * D, 1 / Math.sqrt(D)),
      fcB: normal(rand, 4 * D, 0.02),
      fc2W: normal(rand, 4 * D * D, 0.5 / Math.sqrt(4 * D)),
      fc2B: normal(rand, D, 0.02),
    });
  }
  return {
    wte: normal(rand, s.vocab * D, 1),
    wpe: normal(rand, s.maxPositions * D, 0.5),
    layers,
    lnfG: normal(rand, D, 0.1, 1),
    lnfB: normal(rand, D, 0.02),
  };
}

/** [V, D] -> [D, V], the tied LM head as a MatMul weight. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}
