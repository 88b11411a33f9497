/**
 * Small helpers that emit nodes the way torch.onnx.export does: every literal is its own `Constant` node (not an
 * initializer), and every shape is read back with `Shape` + `Gather` at run time instead of being known statically.
 * Graphs built with these look like what users export, so the engine is tested against that style.
 */
import type { GraphBuilder } from './graph-builder.js';

/** The most negative float32: what HF masks with (torch.finfo(dtype).min), not -inf. */
export const FLOAT_MIN = -3.4028234663852886e38;

export class TorchOps {
  constructor(readonly g: GraphBuilder) {}

  /** int64 1-D Constant. */
  ints(values: number[]): string {
    return this.g.o('Constant', [], { value_ints: values });
  }

  /** int64 scalar Constant. */
  int(value: number): string {
    return this.g.o('Constant', [], { value_int: value });
  }

  /** float32 scalar Constant. */
  float(value: number): string {
    return this.g.o('Constant', [], { value_float: { float: value } });
  }

  floats(values: number[]): string {
    return this.g.o('Constant', [], { value_floats: { floats: values } });
  }

  /** x.shape[i] as an int64 scalar. */
  dim(x: string, i: number): string {
    return this.g.o('Gather', [this.g.o('Shape', [x]), this.int(i)], { axis: 0 });
  }

  /** A run-time shape tensor from scalars and literals, as torch emits for view()/expand() with dynamic sizes. */
  shape(parts: Array<string | number>): string {
    return this.g.o(
      'Concat',
      parts.map((p) => (typeof p === 'number' ? this.ints([p]) : this.g.o('Unsqueeze', [p, this.ints([0])]))),
      { axis: 0 },
    );
  }

  castFloat(x: string): string {
    return this.g.o('Cast', [x], { to: 1 });
  }
}
