/**
 * ONNX external data (`model.onnx_data` next to `model.onnx`): large initializers live in a side file, referenced by
 * location/offset/length. The engine keeps them there (ORT resolves them against the model's folder), so a model past
 * protobuf's 2 GiB limit loads and its weights are never held by JS; it inlines them only to upcast float16. The
 * splitter exists so tests can build such folders the way exporters do for large models.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { onnx, type O } from './onnx.js';

const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

export class ExternalDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExternalDataError';
  }
}

function entry(t: O.ITensorProto, key: string): string | undefined {
  return (t.externalData ?? []).find((e) => e.key === key)?.value ?? undefined;
}

/** Files an .onnx model refers to for its external data (empty when everything is inline). */
export function externalDataFiles(model: O.IModelProto): string[] {
  const files = new Set<string>();
  for (const t of model.graph?.initializer ?? []) if (t.dataLocation === EXTERNAL) files.add(entry(t, 'location') ?? '');
  return [...files];
}

/** The side file and byte range an external initializer names, checked: a file beside the model, whole numbers. */
function externalRange(
  t: O.ITensorProto,
  dir: string,
  fileSize: (location: string, tensor: string) => number,
): { location: string; offset: number; length: number } {
  const location = entry(t, 'location');
  if (!location || isAbsolute(location) || normalize(location).startsWith('..'))
    throw new ExternalDataError(`initializer ${t.name}: external data location '${location}' is not a file next to the model`);
  const size = fileSize(location, String(t.name));
  const offset = Number(entry(t, 'offset') ?? 0);
  const length = entry(t, 'length') !== undefined ? Number(entry(t, 'length')) : size - offset;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
    throw new ExternalDataError(
      `initializer ${t.name}: external data offset '${entry(t, 'offset')}' / length '${entry(t, 'length')}' are not byte counts`,
    );
  if (offset + length > size)
    throw new ExternalDataError(`${join(dir, location)}: too short for initializer ${t.name} (needs ${offset + length} bytes)`);
  return { location, offset, length };
}

/**
 * Checks every external initializer's file is beside the model (ORT refuses paths that leave the folder) and long
 * enough, without reading it: a broken folder fails with the file and tensor named instead of ORT's generic error.
 */
export function checkExternalData(model: O.IModelProto, dir: string): void {
  const sizes = new Map<string, number>();
  const sizeOf = (location: string, tensor: string) => {
    let size = sizes.get(location);
    if (size === undefined) {
      try {
        size = statSync(join(dir, location)).size;
      } catch {
        throw new ExternalDataError(`${join(dir, location)}: missing (initializer ${tensor} keeps its data there)`);
      }
      sizes.set(location, size);
    }
    return size;
  };
  for (const t of model.graph?.initializer ?? []) if (t.dataLocation === EXTERNAL) externalRange(t, dir, sizeOf);
}

/**
 * Moves external initializers (those `which` selects, default all) into the model itself, in place. `dir` is the
 * folder of the .onnx file.
 */
export function inlineExternalData(model: O.IModelProto, dir: string, which: (t: O.ITensorProto) => boolean = () => true): number {
  const cache = new Map<string, Buffer>();
  const read = (location: string, tensor: string) => {
    let data = cache.get(location);
    if (!data) {
      try {
        data = readFileSync(join(dir, location));
      } catch {
        throw new ExternalDataError(`${join(dir, location)}: missing (initializer ${tensor} keeps its data there)`);
      }
      cache.set(location, data);
    }
    return data;
  };
  let n = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== EXTERNAL || !which(t)) continue;
    const { location, offset, length } = externalRange(t, dir, (l, tensor) => read(l, tensor).length);
    const data = read(location, String(t.name));
    t.rawData = new Uint8Array(data.buffer, data.byteOffset + offset, length);
    t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
    t.externalData = [];
    n++;
  }
  return n;
}

/** Splits initializers of at least `minBytes` into a side file named `location`, as exporters do for large models. */
export function splitExternalData(bytes: Uint8Array, location: string, minBytes = 1024): { model: Uint8Array; data: Uint8Array } {
  const model = onnx.ModelProto.decode(bytes);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < minBytes) continue;
    // Exporters align each tensor to 4 KiB so the file can be memory-mapped; keep that layout.
    const pad = (4096 - (offset % 4096)) % 4096;
    if (pad) parts.push(new Uint8Array(pad));
    offset += pad;
    parts.push(new Uint8Array(raw));
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = EXTERNAL;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) (data.set(p, at), (at += p.length));
  return { model: onnx.ModelProto.encode(model).finish(), data };
}
