/** The encoder's forward pass in plain JS (float64 accumulation): the ground truth the ONNX graph is checked against. */
import type { EncoderWeights } from './encoder-weights.js';

function layerNorm(x: Float64Array, gain: Float32Array, bias: Float32Array, eps: number): Float64Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let varSum = 0;
  for (const v of x) varSum += (v - mean) ** 2;
  const inv = 1 / Math.sqrt(varSum / x.length + eps);
  return x.map((v, j) => (v - mean) * inv * gain[j]! + bias[j]!);
}

function linear(x: Float64Array, w: Float32Array, b: Float32Array, outDim: number): Float64Array {
  const y = Float64Array.from(b.subarray(0, outDim));
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const row = i * outDim;
    for (let j = 0; j < outDim; j++) y[j]! += xi * w[row + j]!;
  }
  return y;
}

const erf = (x: number): number => {
  // Numerical Recipes' erfc approximation (|error| < 1.2e-7): well inside the 1e-4 the graph is checked to.
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y =
    1 -
    t *
      Math.exp(
        -x * x -
          1.26551223 +
          t *
            (1.00002368 +
              t *
                (0.37409196 +
                  t *
                    (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
  return x >= 0 ? y : -y;
};

/** One sequence's last hidden states [S][D] with the attention mask applied (padded positions are not attended). */
export function referenceEncode(w: EncoderWeights, ids: readonly number[], mask: readonly number[], types?: readonly number[]): Float64Array[] {
  const s = w.shape;
  const d = s.hidden;
  const heads = s.heads;
  const dh = d / heads;
  let x = ids.map((id, t) => {
    const v = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      v[j] = w.wordEmbeddings[id * d + j]! + w.positionEmbeddings[t * d + j]!;
      if (s.typeVocab > 0) v[j]! += w.typeEmbeddings[(types?.[t] ?? 0) * d + j]!;
    }
    return s.embeddingNorm ? layerNorm(v, w.embNormGain, w.embNormBias, s.eps) : v;
  });
  for (const l of w.layers) {
    const q = x.map((v) => linear(v, l.q, l.qBias, d));
    const k = x.map((v) => linear(v, l.k, l.kBias, d));
    const vv = x.map((v) => linear(v, l.v, l.vBias, d));
    const ctx = x.map(() => new Float64Array(d));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < x.length; i++) {
        const scores = x.map((_, j) => {
          let dot = 0;
          for (let e = 0; e < dh; e++) dot += q[i]![h * dh + e]! * k[j]![h * dh + e]!;
          return dot / Math.sqrt(dh) + (mask[j] ? 0 : -10000);
        });
        const max = Math.max(...scores);
        const exps = scores.map((v) => Math.exp(v - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < x.length; j++) {
          const p = exps[j]! / total;
          for (let e = 0; e < dh; e++) ctx[i]![h * dh + e]! += p * vv[j]![h * dh + e]!;
        }
      }
    }
    x = x.map((v, i) => {
      const attn = linear(ctx[i]!, l.o, l.oBias, d);
      const a = layerNorm(
        v.map((val, j) => val + attn[j]!),
        l.attnNormGain,
        l.attnNormBias,
        s.eps,
      );
      const up = linear(a, l.up, l.upBias, s.intermediate).map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2)));
      const down = linear(up, l.down, l.downBias, d);
      return layerNorm(
        a.map((val, j) => val + down[j]!),
        l.ffnNormGain,
        l.ffnNormBias,
        s.eps,
      );
    });
  }
  return x;
}

/** The sentence vector a caller of the edge embeddings endpoint should get: masked mean, unit length. */
export function referenceEmbedding(w: EncoderWeights, ids: readonly number[], types?: readonly number[]): Float64Array {
  const states = referenceEncode(
    w,
    ids,
    ids.map(() => 1),
    types,
  );
  const v = new Float64Array(w.shape.hidden);
  for (const st of states) for (let j = 0; j < v.length; j++) v[j]! += st[j]! / states.length;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
