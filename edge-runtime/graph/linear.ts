/** Emits `x @ W` in the chosen weight format: fp32 MatMul, int8 DequantizeLinear + MatMul, or 4-bit MatMulNBits. */
import { onnx } from './onnx.js';
import type { GraphBuilder } from './graph-builder.js';
import { quantizeInt8, quantizeRowsBlockwise, transposeMatrix, Q4_BLOCK } from './quantize.js';

export type WeightFormat = 'fp32' | 'int8' | 'q4';

export interface LinearOptions {
  format: WeightFormat;
  /** MatMulNBits accuracy_level: 0 keeps fp32 activations (exact comparisons); 4 uses int8 activations (fastest). */
  accuracyLevel?: number;
  /**
   * How int8 weights run: 'dequantize' (per-channel DequantizeLinear + MatMul, the default) or 'nbits' (8-bit
   * MatMulNBits, blocks of 32, which reads a quarter of fp32's bytes per step instead of materialising fp32 weights).
   */
  int8Kernel?: 'dequantize' | 'nbits';
  /**
   * MatMulNBits block size along K (default 32, as llama.cpp's q4_0). 128 ran the 4-bit kernel 1.38x faster at a
   * 256-token prefill here (docs/ARCHITECTURE.md, Edge throughput) at the price of coarser scales; embeddings stay at 32.
   */
  blockSize?: 16 | 32 | 64 | 128 | 256;
  /** Quantize embedding tables too (GatherBlockQuantized, blocks of 32, 4- or 8-bit like the linear layers). */
  quantizeEmbeddings?: boolean;
  /**
   * Weights come as rows [N, K] (nn.Linear's [out, in], as checkpoints store them) instead of [K, N]: the blockwise
   * kernels take rows as they are, so a converted weight is never transposed twice (and never held three times).
   */
  weightsAsRows?: boolean;
}

export function linear(g: GraphBuilder, x: string, name: string, w: Float32Array, K: number, N: number, opts: LinearOptions, out?: string): string {
  const kn = () => (opts.weightsAsRows ? transposeMatrix(w, N, K) : w);
  const rows = () => (opts.weightsAsRows ? w : transposeMatrix(w, K, N));
  if (opts.format === 'fp32') return g.o('MatMul', [x, g.float(`${name}.weight`, [K, N], kn())], {}, out);
  if (opts.format === 'int8' && opts.int8Kernel === 'nbits') return matMulNBits(g, x, name, rows(), K, N, 8, opts, out);
  if (opts.format === 'int8') {
    const { q, scale } = quantizeInt8(kn(), K, N);
    const qn = g.raw(`${name}.q8`, onnx.TensorProto.DataType.INT8, [K, N], new Uint8Array(q.buffer, q.byteOffset, q.byteLength));
    const sn = g.float(`${name}.scale`, [N], scale);
    const deq = g.o('DequantizeLinear', [qn, sn], { axis: 1 });
    return g.o('MatMul', [x, deq], {}, out);
  }
  // Row-major blocks: the block scan reads contiguous memory (~7x faster than quantizeQ4).
  return matMulNBits(g, x, name, rows(), K, N, 4, opts, out);
}

/** `x @ W` with W given as rows [N, K] (HF's [out, in] layout), 4- or 8-bit MatMulNBits. */
export function matMulNBits(
  g: GraphBuilder,
  x: string,
  name: string,
  rows: Float32Array,
  K: number,
  N: number,
  bits: 4 | 8,
  opts: LinearOptions,
  out?: string,
): string {
  const block = opts.blockSize ?? Q4_BLOCK;
  const { packed, scales, blocks } = quantizeRowsBlockwise(rows, N, K, bits, block);
  const bn = g.raw(`${name}.q${bits}`, onnx.TensorProto.DataType.UINT8, [N, blocks, (block * bits) / 8], packed);
  const sn = g.float(`${name}.scales`, [N * blocks], scales);
  return g.o('MatMulNBits', [x, bn, sn], { K, N, bits, block_size: block, accuracy_level: opts.accuracyLevel ?? 0 }, out, 'com.microsoft');
}

/**
 * Looks up rows of an embedding table [V, D]: a plain Gather in fp32, or GatherBlockQuantized (4-bit for q4, 8-bit for
 * int8) when `quantizeEmbeddings` is set and D is a whole number of blocks. The table is often the largest tensor of a
 * small model, so quantizing it is what brings the file size down with the rest.
 */
export function embedding(g: GraphBuilder, ids: string, name: string, table: Float32Array, V: number, D: number, opts: LinearOptions): string {
  if (opts.format === 'fp32' || !opts.quantizeEmbeddings || D % Q4_BLOCK !== 0) {
    return g.o('Gather', [g.float(name, [V, D], table), ids], { axis: 0 });
  }
  const bits = opts.format === 'q4' ? 4 : 8;
  const { packed, scales, blocks } = quantizeRowsBlockwise(table, V, D, bits);
  const data = g.raw(`${name}.q${bits}`, onnx.TensorProto.DataType.UINT8, [V, (D * bits) / 8], packed);
  const sn = g.float(`${name}.scales`, [V, blocks], scales);
  return g.o('GatherBlockQuantized', [data, ids, sn], { bits, block_size: Q4_BLOCK, gather_axis: 0, quantize_axis: 1 }, undefined, 'com.microsoft');
}
