/**
 * Reads one weight file into float32-activation model bytes the engine can rewrite in memory: external data
 * (`model.onnx_data`) stays in its file and ORT reads it from `externalDataDir` (so models past protobuf's 2 GiB
 * limit load, and their weights are never copied through JS), float16 is upcast to float32 (ORT's CPU provider lacks
 * most fp16 kernels; this one case inlines external data), and what it found is noted for the log and `edge inspect`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { onnx, type O } from '../graph/onnx.js';
import { checkExternalData, externalDataFiles, inlineExternalData } from '../graph/external-data.js';
import { hasFp16, upcastFp16 } from '../graph/fp16.js';

export interface LoadedOnnx {
  bytes: Uint8Array;
  /** Side files holding weights (`model.onnx_data`). */
  externalData: string[];
  /** Folder ORT must resolve external data against (the model's own); absent when `bytes` are self-contained. */
  externalDataDir?: string;
  /** float16 initializers upcast to float32 at load. */
  fp16Upcast: number;
  /** DynamicQuantizeLinear/MatMulInteger present: a row's output depends on its batch neighbours. */
  dynamicQuant: boolean;
  /** MatMulNBits with accuracy_level >= 1 quantize activations to int8 inside the kernel: float noise is larger. */
  int8Activations: boolean;
  /** Weights in the graph: float initializers by element count, 4-bit MatMulNBits weights as K x N, int8 as stored. */
  parameters: number;
  /** Operator types with their domain, for inspection (e.g. com.microsoft.GroupQueryAttention). */
  ops: Record<string, number>;
}

export async function loadOnnxFile(path: string): Promise<LoadedOnnx> {
  const raw = await readFile(path);
  const model = onnx.ModelProto.decode(raw);
  const externalData = externalDataFiles(model);
  const upcast = hasFp16(model);
  // Upcasting needs float16 values in hand; everything else ORT reads (memory-maps) from the side file itself.
  if (upcast) inlineExternalData(model, dirname(path), (t) => t.dataType === onnx.TensorProto.DataType.FLOAT16);
  checkExternalData(model, dirname(path));
  const fp16 = upcast ? upcastFp16(model) : 0;
  const stillExternal = externalDataFiles(model).length > 0;
  const ops: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) {
    const key = n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? '');
    ops[key] = (ops[key] ?? 0) + 1;
  }
  const parameters = countParameters(model);
  const int8Activations = (model.graph?.node ?? []).some(
    (n) => n.opType === 'MatMulNBits' && Number((n.attribute ?? []).find((a) => a.name === 'accuracy_level')?.i ?? 0) > 0,
  );
  const dynamicQuant = Boolean(ops['DynamicQuantizeLinear'] || ops['MatMulInteger'] || ops['com.microsoft.DynamicQuantizeMatMul']);
  return {
    bytes: upcast ? onnx.ModelProto.encode(model).finish() : raw,
    externalData,
    ...(stillExternal ? { externalDataDir: resolve(dirname(path)) } : {}),
    fp16Upcast: fp16,
    dynamicQuant,
    ops,
    parameters,
    int8Activations,
  };
}

const DT = onnx.TensorProto.DataType;

function countParameters(model: O.IModelProto): number {
  const gr = model.graph;
  if (!gr) return 0;
  const size = (t: O.ITensorProto) => (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  const inits = new Map((gr.initializer ?? []).map((t) => [t.name ?? '', t]));
  // Quantization side tensors (scales, zero points) are not parameters; packed 4-bit weights count as K x N.
  const skip = new Set<string>();
  let n = 0;
  for (const node of gr.node ?? []) {
    const inputs = node.input ?? [];
    if (node.opType === 'MatMulNBits' || node.opType === 'GatherBlockQuantized') {
      inputs.slice(1).forEach((i) => skip.add(i));
      skip.add(inputs[0]!);
      const attr = (name: string) => Number((node.attribute ?? []).find((a) => a.name === name)?.i ?? 0);
      if (node.opType === 'MatMulNBits') n += attr('K') * attr('N');
      else {
        const packed = inits.get(inputs[0]!);
        if (packed) n += size(packed) * (8 / (attr('bits') || 4));
      }
    } else if (node.opType === 'DequantizeLinear') inputs.slice(1).forEach((i) => skip.add(i));
  }
  for (const t of gr.initializer ?? []) {
    if (skip.has(t.name ?? '')) continue;
    if ([DT.FLOAT, DT.FLOAT16, DT.BFLOAT16, DT.INT8, DT.UINT8].includes(t.dataType ?? 0) && (t.dims ?? []).length >= 1) n += size(t);
  }
  return n;
}
