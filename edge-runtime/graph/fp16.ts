/**
 * float16 weights. ORT's CPU provider lacks fp16 kernels for most ops, so an fp16 file is served by upcasting every
 * float16 in the graph (initializers, Constant values, Cast targets, declared types) to float32 at load. The other
 * direction writes the fp16 test variant: weights stored as float16 and Cast to float32 where read, as mixed-precision
 * exports keep them.
 */
import { onnx, type O } from './onnx.js';

const DT = onnx.TensorProto.DataType;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from float32, round to nearest even. */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa moves into the exponent, as it should (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function halfValues(t: O.ITensorProto): Uint16Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    return new Uint16Array(copy.buffer, copy.byteOffset, copy.byteLength / 2);
  }
  // Without raw_data, ONNX keeps float16 bit patterns in int32_data.
  return Uint16Array.from(t.int32Data ?? []);
}

function upcastTensor(t: O.ITensorProto): void {
  if (t.dataType !== DT.FLOAT16) return;
  const h = halfValues(t);
  const f = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) f[i] = fromHalf(h[i]!);
  t.dataType = DT.FLOAT;
  t.rawData = new Uint8Array(f.buffer);
  t.int32Data = [];
}

function upcastValueInfo(v: O.IValueInfoProto): void {
  const tt = v.type?.tensorType;
  if (tt && tt.elemType === DT.FLOAT16) tt.elemType = DT.FLOAT;
}

/** Whether the graph holds any float16 (weights or declared types). */
export function hasFp16(model: O.IModelProto): boolean {
  const gr = model.graph;
  if (!gr) return false;
  return (
    (gr.initializer ?? []).some((t) => t.dataType === DT.FLOAT16) ||
    [...(gr.input ?? []), ...(gr.output ?? [])].some((v) => v.type?.tensorType?.elemType === DT.FLOAT16)
  );
}

/** Rewrites every float16 in the graph (and its If/Loop bodies) to float32, in place. Inline external data first. */
export function upcastFp16(model: O.IModelProto): number {
  return model.graph ? upcastGraph(model.graph) : 0;
}

function upcastGraph(gr: O.IGraphProto): number {
  let n = 0;
  for (const t of gr.initializer ?? []) if (t.dataType === DT.FLOAT16) (upcastTensor(t), n++);
  for (const v of [...(gr.input ?? []), ...(gr.output ?? []), ...(gr.valueInfo ?? [])]) upcastValueInfo(v);
  for (const node of gr.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.t) upcastTensor(a.t);
      for (const t of a.tensors ?? []) upcastTensor(t);
      if (a.g) n += upcastGraph(a.g);
      for (const sub of a.graphs ?? []) n += upcastGraph(sub);
      if ((node.opType === 'Cast' || node.opType === 'CastLike') && a.name === 'to' && Number(a.i) === DT.FLOAT16) a.i = DT.FLOAT;
    }
  }
  return n;
}

function halfTensor(values: ArrayLike<number>, dims: number[], name?: string): O.ITensorProto {
  const h = new Uint16Array(values.length);
  // Clamped as fp16 exports write them: masks use finfo(float16).min = -65504, never -inf.
  for (let i = 0; i < values.length; i++) h[i] = toHalf(Math.max(-65504, Math.min(65504, values[i]!)));
  return { name, dataType: DT.FLOAT16, dims, rawData: new Uint8Array(h.buffer) };
}

/**
 * Writes a graph the way fp16 exports ship it (Optimum's model_fp16.onnx, q4f16 files): float16 weights, inputs,
 * outputs, Cast targets and constants; only the integer parts stay. Tests use it to check the upcast at load.
 */
export function toFullFp16(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const gr = model.graph as O.GraphProto;
  const T = onnx.AttributeProto.AttributeType;
  gr.initializer = gr.initializer.map((t) => {
    if (t.dataType !== DT.FLOAT) return t;
    const copy = new Uint8Array(t.rawData ?? new Uint8Array(0));
    const f = copy.length > 0 ? new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4) : Float32Array.from(t.floatData ?? []);
    return onnx.TensorProto.create(halfTensor(f, (t.dims ?? []).map(Number), t.name ?? undefined));
  });
  for (const v of [...gr.input, ...gr.output]) {
    const tt = v.type?.tensorType;
    if (tt && tt.elemType === DT.FLOAT) tt.elemType = DT.FLOAT16;
  }
  gr.valueInfo = [];
  for (const node of gr.node as O.NodeProto[]) {
    if (node.opType === 'Cast') for (const a of node.attribute) if (a.name === 'to' && Number(a.i) === DT.FLOAT) a.i = DT.FLOAT16;
    if (node.opType !== 'Constant') continue;
    const a = node.attribute[0];
    if (!a) continue;
    if (a.name === 'value_float') node.attribute = [onnx.AttributeProto.create({ name: 'value', type: T.TENSOR, t: halfTensor([a.f ?? 0], []) })];
    else if (a.name === 'value_floats')
      node.attribute = [onnx.AttributeProto.create({ name: 'value', type: T.TENSOR, t: halfTensor(a.floats ?? [], [(a.floats ?? []).length]) })];
  }
  return onnx.ModelProto.encode(model).finish();
}

/** Stores every float32 initializer with 2+ dimensions as float16, Cast back to float32 where the graph reads it. */
export function storeWeightsAsFp16(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const gr = model.graph as O.GraphProto;
  const casts: O.INodeProto[] = [];
  for (const t of gr.initializer) {
    if (t.dataType !== DT.FLOAT || (t.dims ?? []).length < 2) continue;
    const copy = new Uint8Array(t.rawData ?? new Uint8Array(0));
    const f =
      t.rawData && t.rawData.length > 0 ? new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4) : Float32Array.from(t.floatData ?? []);
    const h = new Uint16Array(f.length);
    for (let i = 0; i < f.length; i++) h[i] = toHalf(f[i]!);
    const name = t.name!;
    t.name = `${name}_fp16`;
    t.dataType = DT.FLOAT16;
    t.rawData = new Uint8Array(h.buffer);
    t.floatData = [];
    casts.push({
      opType: 'Cast',
      input: [t.name],
      output: [name],
      name: `${name}/Cast`,
      attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: DT.FLOAT }],
    });
  }
  gr.node = [...(casts as O.NodeProto[]), ...gr.node];
  return onnx.ModelProto.encode(model).finish();
}
