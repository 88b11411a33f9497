/** A small ONNX graph builder over onnx-proto: named values, initializers and nodes, encoded to model bytes. */
import { onnx, type O } from './onnx.js';

const DT = onnx.TensorProto.DataType;
type Dim = string | number;

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export class GraphBuilder {
  private readonly nodes: O.INodeProto[] = [];
  private readonly inits: O.ITensorProto[] = [];
  private readonly inputs: O.IValueInfoProto[] = [];
  private readonly outputs: O.IValueInfoProto[] = [];
  private counter = 0;
  private usesMicrosoft = false;

  constructor(private readonly name: string) {}

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, type: 'float32' | 'int64', dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: 'float32' | 'int64', dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  float(name: string, dims: number[], data: Float32Array): string {
    this.inits.push({ name, dataType: DT.FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  int64(name: string, values: number[]): string {
    this.inits.push({ name, dataType: DT.INT64, dims: [values.length], int64Data: values });
    return name;
  }

  int64Scalar(name: string, value: number): string {
    this.inits.push({ name, dataType: DT.INT64, dims: [], int64Data: [value] });
    return name;
  }

  floatScalar(name: string, value: number): string {
    this.inits.push({ name, dataType: DT.FLOAT, dims: [], floatData: [value] });
    return name;
  }

  raw(name: string, dataType: number, dims: number[], bytes: Uint8Array): string {
    this.inits.push({ name, dataType, dims, rawData: bytes });
    return name;
  }

  /** Adds a node; returns its output names (one unless `outputs` is given). */
  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: { outputs?: string[]; domain?: string; name?: string } = {},
  ): string[] {
    const outs = opts.outputs ?? [this.fresh(opType)];
    if (opts.domain === 'com.microsoft') this.usesMicrosoft = true;
    this.nodes.push({
      opType,
      input: inputs,
      output: outs,
      name: opts.name ?? this.fresh(`${opType}_node`),
      domain: opts.domain ?? '',
      attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    });
    return outs;
  }

  /** Single-output convenience. */
  o(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string, domain?: string): string {
    return this.op(opType, inputs, attrs, { outputs: out ? [out] : undefined, domain })[0]!;
  }

  encode(): Uint8Array {
    const opsets: O.IOperatorSetIdProto[] = [{ domain: '', version: 17 }];
    if (this.usesMicrosoft) opsets.push({ domain: 'com.microsoft', version: 1 });
    const model: O.IModelProto = {
      irVersion: 8,
      producerName: 'switchyard',
      producerVersion: '0.1',
      opsetImport: opsets,
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: 'float32' | 'int64', dims: Dim[]): O.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type === 'float32' ? DT.FLOAT : DT.INT64,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attr(name: string, v: AttrValue): O.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

/** Reads float32 initializers back from model bytes (by name), for the reference forward pass. */
export function readInitializers(bytes: Uint8Array): Map<string, { dims: number[]; data: Float32Array }> {
  const model = onnx.ModelProto.decode(bytes);
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== DT.FLOAT) continue;
    const dims = (t.dims ?? []).map(Number);
    let data: Float32Array;
    if (t.rawData && t.rawData.length > 0) {
      const copy = new Uint8Array(t.rawData);
      data = new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
    } else {
      data = Float32Array.from(t.floatData ?? []);
    }
    out.set(t.name ?? '', { dims, data });
  }
  return out;
}
