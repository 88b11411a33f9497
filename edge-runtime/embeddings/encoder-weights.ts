/** A BERT-style encoder's shape and weights (learned positions, token types, post-LayerNorm, GELU), seeded for tests. */
import { seededRandom } from '../graph/llama-weights.js';

export interface EncoderShape {
  vocab: number;
  hidden: number;
  heads: number;
  layers: number;
  intermediate: number;
  maxPositions: number;
  /** Token type (segment) embeddings: BERT exports take `token_type_ids`; 0 = the input is absent. */
  typeVocab: number;
  /** LayerNorm over the summed embeddings (BERT has it; the bench's bag-of-words encoder turns it off). */
  embeddingNorm: boolean;
  eps: number;
}

export interface EncoderLayerWeights {
  /** Linear weights are [in, out] (x @ W), as MatMul takes them. */
  q: Float32Array;
  qBias: Float32Array;
  k: Float32Array;
  kBias: Float32Array;
  v: Float32Array;
  vBias: Float32Array;
  o: Float32Array;
  oBias: Float32Array;
  attnNormGain: Float32Array;
  attnNormBias: Float32Array;
  up: Float32Array;
  upBias: Float32Array;
  down: Float32Array;
  downBias: Float32Array;
  ffnNormGain: Float32Array;
  ffnNormBias: Float32Array;
}

export interface EncoderWeights {
  shape: EncoderShape;
  wordEmbeddings: Float32Array; // [vocab, hidden]
  positionEmbeddings: Float32Array; // [maxPositions, hidden]
  typeEmbeddings: Float32Array; // [typeVocab, hidden]
  embNormGain: Float32Array;
  embNormBias: Float32Array;
  layers: EncoderLayerWeights[];
}

function normal(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    const t = 2 * Math.PI * rand();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

const near = (rand: () => number, n: number, centre: number) => normal(rand, n, 0.05).map((x) => x + centre);

/** Random weights, std 0.05 (close to BERT's 0.02 init, larger so a tiny model's outputs differ visibly per input). */
export function randomEncoderWeights(shape: EncoderShape, seed: number): EncoderWeights {
  const rand = seededRandom(seed);
  const { hidden: d, intermediate: f } = shape;
  const std = 0.05;
  return {
    shape,
    wordEmbeddings: normal(rand, shape.vocab * d, std * 4),
    positionEmbeddings: normal(rand, shape.maxPositions * d, std),
    typeEmbeddings: normal(rand, Math.max(1, shape.typeVocab) * d, std),
    embNormGain: near(rand, d, 1),
    embNormBias: normal(rand, d, std),
    layers: Array.from({ length: shape.layers }, () => ({
      q: normal(rand, d * d, std),
      qBias: normal(rand, d, std),
      k: normal(rand, d * d, std),
      kBias: normal(rand, d, std),
      v: normal(rand, d * d, std),
      vBias: normal(rand, d, std),
      o: normal(rand, d * d, std),
      oBias: normal(rand, d, std),
      attnNormGain: near(rand, d, 1),
      attnNormBias: normal(rand, d, std),
      up: normal(rand, d * f, std),
      upBias: normal(rand, f, std),
      down: normal(rand, f * d, std),
      downBias: normal(rand, d, std),
      ffnNormGain: near(rand, d, 1),
      ffnNormBias: normal(rand, d, std),
    })),
  };
}
