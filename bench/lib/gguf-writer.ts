/**
 * A small GGUF (version 3) writer, enough to hand llama.cpp the same Llama weights the edge runtime serves:
 * metadata key/values, tensor infos, 32-byte aligned tensor data; tensor types F32, Q8_0 and Q4_0 (quantized here with
 * ggml's reference quantizers). Layout per llama.cpp's docs/gguf.md: magic "GGUF", u32 version, u64 tensor count,
 * u64 metadata count, metadata, tensor infos (name, u32 n_dims, u64 dims with ne[0] the contiguous one, u32 ggml type,
 * u64 offset into the data section), padding to `general.alignment`, data.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { toHalf } from '../../edge-runtime/graph/fp16.js'; // round-to-nearest-even, as ggml's GGML_FP32_TO_FP16

export const GGML_TYPE = { F32: 0, Q4_0: 2, Q8_0: 8 } as const;
export type GgmlType = (typeof GGML_TYPE)[keyof typeof GGML_TYPE];
/** general.file_type values (llama_ftype). */
export const FILE_TYPE = { ALL_F32: 0, MOSTLY_Q4_0: 2, MOSTLY_Q8_0: 7 } as const;

const VT = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
const ALIGN = 32;
const QK = 32;

class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.push(b);
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v | 0);
    return this.push(b);
  }
  u64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return this.push(b);
  }
  f32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    return this.push(b);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u64(b.length).push(b);
  }
  concat(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

/** ggml quantize_row_q4_0_ref: blocks of 32, one fp16 scale d = max/-8, nibbles (x/d + 8.5) clamped to 15. */
export function quantizeQ4_0(x: Float32Array): Buffer {
  if (x.length % QK !== 0) throw new Error('q4_0: length must be a multiple of 32');
  const nb = x.length / QK;
  const out = Buffer.alloc(nb * 18);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = x[i * QK + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    out.writeUInt16LE(toHalf(d), i * 18);
    for (let j = 0; j < QK / 2; j++) {
      const x0 = Math.fround(x[i * QK + j]! * id);
      const x1 = Math.fround(x[i * QK + QK / 2 + j]! * id);
      const q0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
      out[i * 18 + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** ggml quantize_row_q8_0_ref: blocks of 32, fp16 scale d = amax/127, int8 round(x/d). */
export function quantizeQ8_0(x: Float32Array): Buffer {
  if (x.length % QK !== 0) throw new Error('q8_0: length must be a multiple of 32');
  const nb = x.length / QK;
  const out = Buffer.alloc(nb * 34);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[i * QK + j]!));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    out.writeUInt16LE(toHalf(d), i * 34);
    for (let j = 0; j < QK; j++) {
      const v = Math.fround(x[i * QK + j]! * id);
      out.writeInt8(Math.sign(v) * Math.round(Math.abs(v)), i * 34 + 2 + j);
    }
  }
  return out;
}

interface TensorEntry {
  name: string;
  /** ggml order: ne[0] is the contiguous (row) dimension. */
  ne: number[];
  type: GgmlType;
  data: Buffer;
}

export class GgufWriter {
  private readonly kv = new Bytes();
  private kvCount = 0;
  private readonly tensors: TensorEntry[] = [];

  private key(k: string, type: number): Bytes {
    this.kvCount++;
    return this.kv.str(k).u32(type);
  }
  u32(k: string, v: number): this {
    this.key(k, VT.UINT32).u32(v);
    return this;
  }
  f32(k: string, v: number): this {
    this.key(k, VT.FLOAT32).f32(v);
    return this;
  }
  bool(k: string, v: boolean): this {
    this.key(k, VT.BOOL).push(Buffer.from([v ? 1 : 0]));
    return this;
  }
  string(k: string, v: string): this {
    this.key(k, VT.STRING).str(v);
    return this;
  }
  strings(k: string, vs: readonly string[]): this {
    const b = this.key(k, VT.ARRAY).u32(VT.STRING).u64(vs.length);
    for (const s of vs) b.str(s);
    return this;
  }
  i32s(k: string, vs: readonly number[]): this {
    const b = this.key(k, VT.ARRAY).u32(VT.INT32).u64(vs.length);
    for (const v of vs) b.i32(v);
    return this;
  }

  /** Adds a tensor from float32 values in ggml order (ne[0] contiguous), stored as `type`. */
  tensor(name: string, ne: number[], values: Float32Array, type: GgmlType): this {
    const n = ne.reduce((a, b) => a * b, 1);
    if (n !== values.length) throw new Error(`${name}: ${values.length} values for shape [${ne.join(', ')}]`);
    const data =
      type === GGML_TYPE.F32
        ? Buffer.from(values.buffer, values.byteOffset, values.byteLength)
        : type === GGML_TYPE.Q4_0
          ? quantizeQ4_0(values)
          : quantizeQ8_0(values);
    this.tensors.push({ name, ne, type, data });
    return this;
  }

  /** Writes the file; returns its size in bytes. */
  write(path: string): number {
    const head = new Bytes();
    head
      .push(Buffer.from('GGUF', 'latin1'))
      .u32(3)
      .u64(this.tensors.length)
      .u64(this.kvCount + 1);
    const pad = (n: number) => (ALIGN - (n % ALIGN)) % ALIGN;
    const infos = new Bytes();
    let offset = 0;
    for (const t of this.tensors) {
      infos.str(t.name).u32(t.ne.length);
      for (const d of t.ne) infos.u64(d);
      infos.u32(t.type).u64(offset);
      offset += t.data.length + pad(t.data.length);
    }
    const align = new Bytes().str('general.alignment').u32(VT.UINT32).u32(ALIGN);
    const fd = openSync(path, 'w');
    let written = 0;
    const put = (b: Buffer) => {
      writeSync(fd, b);
      written += b.length;
    };
    try {
      put(head.concat());
      put(this.kv.concat());
      put(align.concat());
      put(infos.concat());
      put(Buffer.alloc(pad(written)));
      for (const t of this.tensors) {
        put(t.data);
        put(Buffer.alloc(pad(t.data.length)));
      }
    } finally {
      closeSync(fd);
    }
    return written;
  }
}
