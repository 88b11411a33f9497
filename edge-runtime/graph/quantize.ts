/**
 * Weight-only quantization for linear layers. Both forms keep each row's output independent of its batch neighbours
 * (no activation quantization across the batch): int8 per output channel via DequantizeLinear, and 4-bit blocks of 32
 * via com.microsoft MatMulNBits.
 */

/** Symmetric int8 per output column of W [K, N]: w ≈ q * scale[n]. */
export function quantizeInt8(w: Float32Array, K: number, N: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(w[k * N + n]!));
    scale[n] = m > 0 ? m / 127 : 1;
  }
  const q = new Int8Array(K * N);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) q[k * N + n] = Math.max(-127, Math.min(127, Math.round(w[k * N + n]! / scale[n]!)));
  return { q, scale };
}

export const Q4_BLOCK = 32;

/**
 * MatMulNBits layout: B [N, ceil(K/32), 16] uint8 (two 4-bit values a byte, low nibble first), scales [N * blocks],
 * implicit zero point 8: w ≈ (q - 8) * scale.
 */
export function quantizeQ4(w: Float32Array, K: number, N: number): { packed: Uint8Array; scales: Float32Array; blocks: number } {
  const blocks = Math.ceil(K / Q4_BLOCK);
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let m = 0;
      for (let i = 0; i < Q4_BLOCK; i++) {
        const k = b * Q4_BLOCK + i;
        if (k < K) m = Math.max(m, Math.abs(w[k * N + n]!));
      }
      const s = m > 0 ? m / 7 : 1;
      scales[n * blocks + b] = s;
      for (let i = 0; i < Q4_BLOCK; i += 2) {
        const k0 = b * Q4_BLOCK + i;
        const q = (k: number) => (k < K ? Math.max(0, Math.min(15, Math.round(w[k * N + n]! / s) + 8)) : 8);
        packed[(n * blocks + b) * (Q4_BLOCK / 2) + i / 2] = q(k0) | (q(k0 + 1) << 4);
      }
    }
  }
  return { packed, scales, blocks };
}
