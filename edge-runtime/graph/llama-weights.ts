/** Llama-family weights (RMSNorm, rotary, GQA, SwiGLU) and a seeded random initialiser for built test models. */

export interface LlamaShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  maxPositions: number;
  ropeTheta: number;
  rmsEps: number;
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
  lmHead: Float32Array; // [hidden, vocab]
}

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function nearOne(rand: () => number, n: number): Float32Array {
  const w = normal(rand, n, 0.1);
  for (let i = 0; i < n; i++) w[i]! += 1;
  return w;
}

/**
 * Random weights scaled per fan-in so activations stay O(1) through the layers; the LM head is scaled up so the top-2
 * logit margin is large (a decisive model: greedy comparisons then test the engine, not float rounding).
 */
export function randomLlamaWeights(s: LlamaShape, seed: number, headScale = 8): LlamaWeights {
  const rand = seededRandom(seed);
  const d = s.hidden;
  const qd = s.heads * s.headDim;
  const kd = s.kvHeads * s.headDim;
  const layers: LlamaLayerWeights[] = [];
  for (let l = 0; l < s.layers; l++) {
    layers.push({
      inNorm: nearOne(rand, d),
      wq: normal(rand, d * qd, 1 / Math.sqrt(d)),
      wk: normal(rand, d * kd, 1 / Math.sqrt(d)),
      wv: normal(rand, d * kd, 1 / Math.sqrt(d)),
      wo: normal(rand, qd * d, 0.5 / Math.sqrt(qd)),
      postNorm: nearOne(rand, d),
      wg: normal(rand, d * s.intermediate, 1 / Math.sqrt(d)),
      wu: normal(rand, d * s.intermediate, 1 / Math.sqrt(d)),
      wd: normal(rand, s.intermediate * d, 0.5 / Math.sqrt(s.intermediate)),
    });
  }
  return {
    embed: normal(rand, s.vocab * d, 1),
    layers,
    finalNorm: nearOne(rand, d),
    lmHead: normal(rand, d * s.vocab, headScale / Math.sqrt(d)),
  };
}

/** Rotary tables [maxPositions, headDim/2] (HF's rotate_half convention). */
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
