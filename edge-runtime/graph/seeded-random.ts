/** Seeded randomness for built models: the same seed gives the same weights on any machine, bit for bit. */

/** mulberry32: small, fast, seedable; uniform in [0, 1). */
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

/** `n` normal samples (Box-Muller) with the given standard deviation and mean, rounded to float32. */
export function normal(rand: () => number, n: number, std: number, mean = 0): Float32Array {
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

/** [rows, cols] -> [cols, rows] (row-major), e.g. a tied [vocab, hidden] embedding as a [hidden, vocab] head. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}
