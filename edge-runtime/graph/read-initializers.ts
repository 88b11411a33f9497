/** Reads float32 initializers back from .onnx bytes by name: how the reference proves what the file holds. */
import { onnx } from './onnx.js';

export interface FloatInitializer {
  dims: number[];
  data: Float32Array;
}

export function readInitializers(bytes: Uint8Array): Map<string, FloatInitializer> {
  const model = onnx.ModelProto.decode(bytes);
  const out = new Map<string, FloatInitializer>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue;
    const dims = (t.dims ?? []).map(Number);
    let data: Float32Array;
    if (t.rawData && t.rawData.length > 0) {
      // Copy: rawData is a view into the protobuf buffer at an offset that need not be 4-byte aligned.
      const copy = new Uint8Array(t.rawData);
      data = new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    } else {
      data = Float32Array.from(t.floatData ?? []);
    }
    out.set(t.name ?? '', { dims, data });
  }
  return out;
}

/** The operator types a graph uses (with their domain), e.g. to check a quantized file has no DynamicQuantizeLinear. */
export function operatorTypes(bytes: Uint8Array): Set<string> {
  const model = onnx.ModelProto.decode(bytes);
  return new Set((model.graph?.node ?? []).map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType ?? '')));
}
