/**
 * Reads one weight file into self-contained float32-activation model bytes the engine can rewrite in memory:
 * external data (`model.onnx_data`) inlined, float16 upcast to float32 (ORT's CPU provider lacks most fp16 kernels),
 * and what it found noted for the log and `edge inspect`.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { onnx } from '../graph/onnx.js';
import { externalDataFiles, inlineExternalData } from '../graph/external-data.js';
import { hasFp16, upcastFp16 } from '../graph/fp16.js';

export interface LoadedOnnx {
  bytes: Uint8Array;
  /** Side files whose data was inlined. */
  externalData: string[];
  /** float16 initializers upcast to float32 at load. */
  fp16Upcast: number;
  /** DynamicQuantizeLinear/MatMulInteger present: a row's output depends on its batch neighbours. */
  dynamicQuant: boolean;
  /** Operator types with their domain, for inspection (e.g. com.microsoft.GroupQueryAttention). */
  ops: Record<string, number>;
}

export async function loadOnnxFile(path: string): Promise<LoadedOnnx> {
  const raw = await readFile(path);
  const model = onnx.ModelProto.decode(raw);
  const externalData = externalDataFiles(model);
  if (externalData.length > 0) inlineExternalData(model, dirname(path));
  const fp16 = hasFp16(model) ? upcastFp16(model) : 0;
  const ops: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) {
    const key = n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? '');
    ops[key] = (ops[key] ?? 0) + 1;
  }
  const dynamicQuant = Boolean(ops['DynamicQuantizeLinear'] || ops['MatMulInteger'] || ops['com.microsoft.DynamicQuantizeMatMul']);
  const changed = externalData.length > 0 || fp16 > 0;
  return { bytes: changed ? onnx.ModelProto.encode(model).finish() : raw, externalData, fp16Upcast: fp16, dynamicQuant, ops };
}
