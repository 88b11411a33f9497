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

/**
 * Blockwise quantization of rows: `rows` is [N, K] row-major (HF's [out, in] layout, or an embedding table
 * [vocab, hidden]). Blocks of 32 along K; implicit zero point 8 (4-bit) or 128 (8-bit), so w ≈ (q - zp) * scale.
 * The packed bytes are both MatMulNBits' B [N, blocks, 32 * bits / 8] and GatherBlockQuantized's data [N, K * bits / 8]
 * (4-bit: two values a byte, low nibble first), with scales [N, blocks].
 */
export function quantizeRowsBlockwise(
  rows: Float32Array,
  N: number,
  K: number,
  bits: 4 | 8,
  blockSize = Q4_BLOCK,
): { packed: Uint8Array; scales: Float32Array; blocks: number } {
  const blocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const packed = new Uint8Array(N * blocks * blob);
  const scales = new Float32Array(N * blocks);
  const zp = bits === 4 ? 8 : 128;
  const qmax = 2 * zp - 1;
  for (let n = 0; n < N; n++) {
    const row = n * K;
    for (let b = 0; b < blocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      // As llama.cpp's q4_0: the scale maps the block's largest-magnitude value to the extreme level -zp exactly
      // (the scale takes that value's opposite sign), so all 2^bits levels are used instead of 2^bits - 1.
      let v = 0;
      for (let k = k0; k < k1; k++) if (Math.abs(rows[row + k]!) > Math.abs(v)) v = rows[row + k]!;
      const s = v !== 0 ? -v / zp : 1;
      scales[n * blocks + b] = s;
      const out = (n * blocks + b) * blob;
      for (let i = 0; i < blockSize; i++) {
        const k = k0 + i;
        const q = k < k1 ? Math.max(0, Math.min(qmax, Math.round(rows[row + k]! / s) + zp)) : zp;
        if (bits === 8) packed[out + i] = q;
        else packed[out + (i >> 1)]! |= q << ((i & 1) * 4);
      }
    }
  }
  return { packed, scales, blocks };
}

/** [K, N] -> [N, K]. */
export function transposeMatrix(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = w[base + c]!;
  }
  return t;
}
