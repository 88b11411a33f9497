/**
 * How each weight format is built when converting or quantizing, and why:
 * - fp32: plain MatMul / Gather.
 * - int8: 8-bit MatMulNBits (blocks of 32, accuracy_level 4) and 8-bit GatherBlockQuantized embeddings. Level 4
 *   quantizes activations to int8 per row and per block inside the kernel, so a row's output never depends on its
 *   batch neighbours (unlike DynamicQuantizeLinear + MatMulInteger, which quantizes across the batch); at level 0 the
 *   8-bit kernel has no fast path on this CPU (measured ~10x slower than level 4).
 * - q4: 4-bit MatMulNBits (blocks of 32, accuracy_level 4, the fastest measured here) and 4-bit GatherBlockQuantized
 *   embeddings (the embedding table is a small model's largest tensor: without it q4 stays above 0.3x fp32's size).
 * `accuracyLevel: 0` (fp32 activations) is available for exact comparisons; `blockSize` (MatMulNBits, default 32) trades
 * accuracy for speed (128: prefill 0.76x CPU, 30% more logit error on bench-50m; docs/ARCHITECTURE.md, Edge throughput).
 */
import type { LinearOptions, WeightFormat } from '../graph/linear.js';
import { VARIANT_FILES } from '../model/build-model.js';

export const WEIGHT_FORMATS: WeightFormat[] = ['fp32', 'int8', 'q4'];

export function linearOptionsFor(
  format: WeightFormat,
  overrides: { accuracyLevel?: number; int8Kernel?: 'dequantize' | 'nbits'; blockSize?: LinearOptions['blockSize'] } = {},
): LinearOptions {
  if (format === 'fp32') return { format };
  const block = overrides.blockSize ? { blockSize: overrides.blockSize } : {};
  if (format === 'int8')
    return { format, int8Kernel: overrides.int8Kernel ?? 'nbits', accuracyLevel: overrides.accuracyLevel ?? 4, quantizeEmbeddings: true, ...block };
  return { format, accuracyLevel: overrides.accuracyLevel ?? 4, quantizeEmbeddings: true, ...block };
}

export function variantFile(format: WeightFormat): string {
  return VARIANT_FILES[format];
}

/** Parses `fp32|int8|q4|all` (also a comma list) into formats. */
export function parseQuant(value: string, allowed: WeightFormat[] = WEIGHT_FORMATS): WeightFormat[] {
  const parts = value === 'all' ? allowed : value.split(',').map((s) => s.trim());
  const bad = parts.filter((p) => !(allowed as string[]).includes(p));
  if (bad.length > 0 || parts.length === 0) throw new Error(`--quant ${value}: expected ${allowed.join(', ')}${allowed.length > 1 ? ' or all' : ''}`);
  return [...new Set(parts)] as WeightFormat[];
}
