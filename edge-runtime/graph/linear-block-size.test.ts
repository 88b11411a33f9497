/** The 4-bit linear layer at another MatMulNBits block size: the attribute, the scales' shape and the values computed. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './graph-builder.js';
import { linear } from './linear.js';
import { onnx } from './onnx.js';
import { seededRandom } from './llama-weights.js';
import { quantizeRowsBlockwise } from './quantize.js';

describe('4-bit linear block size', () => {
  for (const blockSize of [32, 128] as const) {
    it(`block ${blockSize}: one scale per ${blockSize} inputs, output equals x @ dequantized W`, async () => {
      const K = 256;
      const N = 24;
      const rand = seededRandom(blockSize);
      const W = Float32Array.from({ length: K * N }, () => rand() - 0.5); // [K, N]
      const g = new GraphBuilder('lin');
      const x = g.input('x', 'float32', [2, K]);
      linear(g, x, 'w', W, K, N, { format: 'q4', accuracyLevel: 0, blockSize }, 'y');
      g.output('y', 'float32', [2, N]);
      const bytes = g.encode();
      const node = onnx.ModelProto.decode(bytes).graph!.node!.find((n) => n.opType === 'MatMulNBits')!;
      expect(Number(node.attribute!.find((a) => a.name === 'block_size')!.i)).toBe(blockSize);
      // The reference: the same quantization dequantized in JS ((q - 8) * scale), multiplied in float64.
      const rows = new Float32Array(N * K);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) rows[n * K + k] = W[k * N + n]!;
      const { packed, scales, blocks } = quantizeRowsBlockwise(rows, N, K, 4, blockSize);
      expect(blocks).toBe(K / blockSize);
      const X = Float32Array.from({ length: 2 * K }, () => rand() - 0.5);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const y = (await session.run({ x: new ort.Tensor('float32', X, [2, K]) }))['y']!.data as Float32Array;
      await session.release();
      let maxDiff = 0;
      for (let r = 0; r < 2; r++) {
        for (let n = 0; n < N; n++) {
          let acc = 0;
          for (let k = 0; k < K; k++) {
            const byte = packed[n * (K / 2) + (k >> 1)]!;
            const q = k & 1 ? byte >> 4 : byte & 15;
            acc += X[r * K + k]! * (q - 8) * scales[n * blocks + Math.floor(k / blockSize)]!;
          }
          maxDiff = Math.max(maxDiff, Math.abs(acc - y[r * N + n]!));
        }
      }
      expect(maxDiff).toBeLessThan(1e-4);
    });
  }
});
