/** Sentence vectors from token states: mean over attended tokens, then unit length (cosine = dot product). */

/** hidden [B, S, D] row-major; mask [B, S] of 0/1. Returns B unit vectors. */
export function meanPoolNormalize(hidden: Float32Array, mask: ArrayLike<number | bigint>, batch: number, seq: number, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (Number(mask[b * seq + t]) === 0) continue;
      count++;
      const base = (b * seq + t) * dim;
      for (let j = 0; j < dim; j++) v[j]! += hidden[base + j]!;
    }
    if (count > 0) for (let j = 0; j < dim; j++) v[j]! /= count;
    out.push(normalize(v));
  }
  return out;
}

/** In place; a zero vector stays zero. */
export function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let j = 0; j < v.length; j++) sum += v[j]! * v[j]!;
  const n = Math.sqrt(sum);
  if (n > 1e-12) for (let j = 0; j < v.length; j++) v[j]! /= n;
  return v;
}
