/** Emits `x @ W` in the chosen weight format: fp32 MatMul, int8 DequantizeLinear + MatMul, or 4-bit MatMulNBits. */
import { onnx, type O } from './onnx.js';
import type { GraphBuilder } from './graph-builder.js';
import { quantizeInt8, quantizeQ4, Q4_BLOCK } from './quantize.js';

export type WeightFormat = 'fp32' | 'int8' | 'q4';

export interface LinearOptions {
  format: WeightFormat;
  /** MatMulNBits accuracy_level: 0 keeps fp32 activations (exact comparisons); 4 uses int8 activations (fastest). */
  accuracyLevel?: number;
}

export function linear(g: GraphBuilder, x: string, name: string, w: Float32Array, K: number, N: number, opts: LinearOptions, out?: string): string {
  if (opts.format === 'fp32') return g.o('MatMul', [x, g.float(`${name}.weight`, [K, N], w)], {}, out);
  if (opts.format === 'int8') {
    const { q, scale } = quantizeInt8(w, K, N);
    const qn = g.raw(`${name}.q8`, onnx.TensorProto.DataType.INT8, [K, N], new Uint8Array(q.buffer, q.byteOffset, q.byteLength));
    const sn = g.float(`${name}.scale`, [N], scale);
    const deq = g.o('DequantizeLinear', [qn, sn], { axis: 1 });
    return g.o('MatMul', [x, deq], {}, out);
  }
  const { packed, scales, blocks } = quantizeQ4(w, K, N);
  const bn = g.raw(`${name}.q4`, onnx.TensorProto.DataType.UINT8, [N, blocks, Q4_BLOCK / 2], packed);
  const sn = g.float(`${name}.scales`, [N * blocks], scales);
  return g.o('MatMulNBits', [x, bn, sn], { K, N, bits: 4, block_size: Q4_BLOCK, accuracy_level: opts.accuracyLevel ?? 0 }, out, 'com.microsoft');
}
