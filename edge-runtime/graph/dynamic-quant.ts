/**
 * What onnxruntime.quantization.quantize_dynamic writes for each MatMul with a constant weight: the activation is
 * quantized per call (`DynamicQuantizeLinear`, one uint8 scale for the whole tensor, i.e. across the batch), the
 * weight is int8 per-tensor, `MatMulInteger` accumulates in int32, and the result is rescaled. Tests use it to build
 * the dynamically quantized `model_quantized.onnx` users download, whose rows depend on their batch neighbours.
 */
import { onnx, type O } from './onnx.js';

const DT = onnx.TensorProto.DataType;

export function quantizeDynamic(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const gr = model.graph as O.GraphProto;
  const inits = new Map(gr.initializer.map((t) => [t.name, t]));
  const nodes: O.INodeProto[] = [];
  for (const node of gr.node as O.NodeProto[]) {
    const w = node.opType === 'MatMul' ? inits.get(node.input[1]!) : undefined;
    if (!w || w.dataType !== DT.FLOAT || (w.dims ?? []).length !== 2 || !w.rawData?.length) {
      nodes.push(node);
      continue;
    }
    const copy = new Uint8Array(w.rawData);
    const f = new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    let m = 0;
    for (const x of f) m = Math.max(m, Math.abs(x));
    const scale = m > 0 ? m / 127 : 1;
    const q = new Int8Array(f.length);
    for (let i = 0; i < f.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(f[i]! / scale)));
    const name = w.name!;
    const x = node.input[0]!;
    const out = node.output[0]!;
    const p = `${out}/dq`;
    gr.initializer.push(
      onnx.TensorProto.create({ name: `${name}_quantized`, dataType: DT.INT8, dims: w.dims, rawData: new Uint8Array(q.buffer) }),
      onnx.TensorProto.create({ name: `${name}_scale`, dataType: DT.FLOAT, dims: [], floatData: [scale] }),
      onnx.TensorProto.create({ name: `${name}_zero_point`, dataType: DT.INT8, dims: [], rawData: new Uint8Array(1) }),
    );
    nodes.push(
      { opType: 'DynamicQuantizeLinear', input: [x], output: [`${p}/x_q`, `${p}/x_scale`, `${p}/x_zp`], name: `${p}/DynamicQuantizeLinear` },
      {
        opType: 'MatMulInteger',
        input: [`${p}/x_q`, `${name}_quantized`, `${p}/x_zp`, `${name}_zero_point`],
        output: [`${p}/int32`],
        name: `${p}/MatMulInteger`,
      },
      {
        opType: 'Cast',
        input: [`${p}/int32`],
        output: [`${p}/float`],
        name: `${p}/Cast`,
        attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DT.FLOAT }],
      },
      { opType: 'Mul', input: [`${p}/x_scale`, `${name}_scale`], output: [`${p}/scale`], name: `${p}/ScaleMul` },
      { opType: 'Mul', input: [`${p}/float`, `${p}/scale`], output: [out], name: `${p}/Mul` },
    );
  }
  gr.node = nodes as O.NodeProto[];
  const used = new Set(gr.node.flatMap((n) => n.input));
  gr.initializer = gr.initializer.filter((t) => used.has(t.name));
  return onnx.ModelProto.encode(model).finish();
}
