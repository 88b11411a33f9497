/**
 * Weight-only quantization of an existing fp32 ONNX decoder (ours or exported elsewhere): every MatMul / Gemm whose
 * weight is a 2-D float initializer becomes MatMulNBits (4- or 8-bit, blocks of 32), and every Gather over a float
 * token embedding table (gathered by input_ids) that nothing else reads becomes GatherBlockQuantized. Activations stay fp32 between kernels and are
 * never quantized across the batch, so rows stay independent. Output names are kept, so the paged rewrite and
 * transformers.js see the same graph interface.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { onnx, type O } from '../graph/onnx.js';
import { quantizeRowsBlockwise, transposeMatrix, quantizeInt8, Q4_BLOCK } from '../graph/quantize.js';
import type { LinearOptions } from '../graph/linear.js';

const DT = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export class QuantizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantizeError';
  }
}

export interface QuantizeStats {
  matmuls: number;
  gemms: number;
  gathers: number;
  /** Float initializers left as they were (norms, biases, rotary tables, weights of other ops). */
  keptFloatBytes: number;
}

/** Bytes of an initializer stored as external data (location / offset / length, relative to the model file). */
function externalBytes(t: O.ITensorProto, modelPath: string): Uint8Array {
  const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
  if (!kv['location']) throw new QuantizeError(`${modelPath}: initializer '${t.name}' has external data without a location`);
  const file = join(dirname(modelPath), kv['location']);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    throw new QuantizeError(`${file}: missing (external data of initializer '${t.name}' in ${modelPath})`);
  }
  const offset = Number(kv['offset'] ?? 0);
  const length = kv['length'] ? Number(kv['length']) : buf.length - offset;
  const copy = new Uint8Array(length);
  copy.set(buf.subarray(offset, offset + length));
  return copy;
}

const isExternal = (t: O.ITensorProto) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;

/** Float data of an initializer, from raw_data, float_data or an external data file next to the model. */
export function floatData(t: O.ITensorProto, modelPath: string): Float32Array {
  if (isExternal(t)) return new Float32Array(externalBytes(t, modelPath).buffer);
  if (t.rawData && t.rawData.length > 0) {
    const copy = new Uint8Array(t.rawData);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

function attr(node: O.INodeProto, name: string): O.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

function attrNum(node: O.INodeProto, name: string, dflt: number): number {
  const a = attr(node, name);
  if (!a) return dflt;
  return a.type === A.FLOAT ? Number(a.f) : Number(a.i);
}

const ints = (name: string, i: number): O.IAttributeProto => ({ name, type: A.INT, i });

/**
 * Quantizes `modelBytes` (read from `modelPath`, for external data and messages). `opts.format` is 'int8' or 'q4';
 * int8 uses 8-bit MatMulNBits unless `int8Kernel` is 'dequantize' (per-channel DequantizeLinear + MatMul).
 */
export function quantizeOnnxModel(modelBytes: Uint8Array, modelPath: string, opts: LinearOptions): { bytes: Uint8Array; stats: QuantizeStats } {
  if (opts.format === 'fp32') throw new QuantizeError('quantize: format must be int8 or q4');
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new QuantizeError(`${modelPath}: the model has no graph`);
  const inits = new Map<string, O.ITensorProto>();
  for (const t of graph.initializer ?? []) inits.set(t.name ?? '', t);
  const uses = new Map<string, number>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);
  const bits: 4 | 8 = opts.format === 'q4' ? 4 : 8;
  const dequantize = opts.format === 'int8' && opts.int8Kernel === 'dequantize';
  const added: O.ITensorProto[] = [];
  const stats: QuantizeStats = { matmuls: 0, gemms: 0, gathers: 0, keptFloatBytes: 0 };
  const floatMatrix = (name: string | undefined) => {
    const t = name ? inits.get(name) : undefined;
    return t && t.dataType === DT.FLOAT && (t.dims ?? []).length === 2 ? t : undefined;
  };
  /** Rows [N, K] -> MatMulNBits node (or DequantizeLinear + MatMul) computing x @ W^T... i.e. x [.., K] -> [.., N]. */
  const linearNodes = (x: string, rows: Float32Array, K: number, N: number, base: string, out: string): O.INodeProto[] => {
    if (dequantize) {
      const { q, scale } = quantizeInt8(transposeMatrix(rows, N, K), K, N);
      added.push({ name: `${base}.q8`, dataType: DT.INT8, dims: [K, N], rawData: new Uint8Array(q.buffer) });
      added.push({ name: `${base}.scale`, dataType: DT.FLOAT, dims: [N], rawData: new Uint8Array(scale.buffer) });
      return [
        {
          opType: 'DequantizeLinear',
          input: [`${base}.q8`, `${base}.scale`],
          output: [`${base}.deq`],
          attribute: [ints('axis', 1)],
          name: `${base}/DQ`,
        },
        { opType: 'MatMul', input: [x, `${base}.deq`], output: [out], name: `${base}/MatMul` },
      ];
    }
    const block = opts.blockSize ?? Q4_BLOCK;
    const { packed, scales, blocks } = quantizeRowsBlockwise(rows, N, K, bits, block);
    added.push({ name: `${base}.q${bits}`, dataType: DT.UINT8, dims: [N, blocks, (block * bits) / 8], rawData: packed });
    added.push({ name: `${base}.scales`, dataType: DT.FLOAT, dims: [N * blocks], rawData: new Uint8Array(scales.buffer) });
    return [
      {
        opType: 'MatMulNBits',
        domain: 'com.microsoft',
        input: [x, `${base}.q${bits}`, `${base}.scales`],
        output: [out],
        attribute: [ints('K', K), ints('N', N), ints('bits', bits), ints('block_size', block), ints('accuracy_level', opts.accuracyLevel ?? 0)],
        name: `${base}/MatMulNBits`,
      },
    ];
  };

  const nodes: O.INodeProto[] = [];
  for (const node of graph.node ?? []) {
    const base = `${(node.name || node.output?.[0] || 'node').replace(/[^A-Za-z0-9_./-]/g, '_')}`;
    if (node.opType === 'MatMul' && (node.domain ?? '') === '') {
      const w = floatMatrix(node.input?.[1]);
      if (w) {
        const [K, N] = (w.dims ?? []).map(Number) as [number, number];
        const rows = transposeMatrix(floatData(w, modelPath), K, N);
        nodes.push(...linearNodes(node.input![0]!, rows, K, N, `${base}/w`, node.output![0]!));
        uses.set(w.name!, uses.get(w.name!)! - 1);
        stats.matmuls++;
        continue;
      }
    }
    if (node.opType === 'Gemm' && (node.domain ?? '') === '') {
      const w = floatMatrix(node.input?.[1]);
      const plain = attrNum(node, 'alpha', 1) === 1 && attrNum(node, 'beta', 1) === 1 && attrNum(node, 'transA', 0) === 0;
      if (w && plain) {
        const transB = attrNum(node, 'transB', 0) === 1;
        const [d0, d1] = (w.dims ?? []).map(Number) as [number, number];
        const [K, N] = transB ? [d1, d0] : [d0, d1];
        const data = floatData(w, modelPath);
        const rows = transB ? data : transposeMatrix(data, K, N);
        const bias = node.input?.[2];
        const out = node.output![0]!;
        nodes.push(...linearNodes(node.input![0]!, rows, K, N, `${base}/w`, bias ? `${base}/nobias` : out));
        if (bias) nodes.push({ opType: 'Add', input: [`${base}/nobias`, bias], output: [out], name: `${base}/bias` });
        uses.set(w.name!, uses.get(w.name!)! - 1);
        stats.gemms++;
        continue;
      }
    }
    if (node.opType === 'Gather' && (node.domain ?? '') === '' && attrNum(node, 'axis', 0) === 0) {
      const w = floatMatrix(node.input?.[0]);
      const [V, D] = (w?.dims ?? []).map(Number) as [number, number];
      // Token embeddings only (indexed by input_ids: rotary and position tables keep full precision), and only when
      // nothing else reads the fp32 table, since otherwise the quantized copy would only add bytes.
      if (w && node.input?.[1] === 'input_ids' && D % Q4_BLOCK === 0 && uses.get(w.name!) === 1) {
        const { packed, scales, blocks } = quantizeRowsBlockwise(floatData(w, modelPath), V, D, bits);
        added.push({ name: `${base}/table.q${bits}`, dataType: DT.UINT8, dims: [V, (D * bits) / 8], rawData: packed });
        added.push({ name: `${base}/table.scales`, dataType: DT.FLOAT, dims: [V, blocks], rawData: new Uint8Array(scales.buffer) });
        nodes.push({
          opType: 'GatherBlockQuantized',
          domain: 'com.microsoft',
          input: [`${base}/table.q${bits}`, node.input![1]!, `${base}/table.scales`],
          output: node.output,
          attribute: [ints('bits', bits), ints('block_size', Q4_BLOCK), ints('gather_axis', 0), ints('quantize_axis', 1)],
          name: `${base}/GatherBlockQuantized`,
        });
        uses.set(w.name!, 0);
        stats.gathers++;
        continue;
      }
    }
    nodes.push(node);
  }
  if (stats.matmuls + stats.gemms === 0) throw new QuantizeError(`${modelPath}: no MatMul or Gemm with a float initializer weight to quantize`);
  graph.node = nodes;
  graph.initializer = [...(graph.initializer ?? []).filter((t) => (uses.get(t.name ?? '') ?? 0) > 0), ...added];
  for (const t of graph.initializer) {
    if (t.dataType === DT.FLOAT) stats.keptFloatBytes += (t.dims ?? []).map(Number).reduce((a, b) => a * b, 1) * 4;
    // The output embeds everything: external data of the initializers kept is read in.
    if (isExternal(t)) {
      t.rawData = externalBytes(t, modelPath);
      t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
      t.externalData = [];
    }
  }
  const opsets = model.opsetImport ?? [];
  if (!opsets.some((o) => o.domain === 'com.microsoft')) opsets.push({ domain: 'com.microsoft', version: 1 });
  model.opsetImport = opsets;
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, stats };
}
