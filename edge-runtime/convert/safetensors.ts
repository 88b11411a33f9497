/**
 * Safetensors files read tensor by tensor: the header (8-byte little-endian length + JSON) is parsed once, then each
 * tensor is read from its own byte range when asked for, so a multi-GB checkpoint never sits in memory whole.
 * F32, F16 and BF16 are widened to Float32Array; anything else is refused with the file and tensor named.
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { z } from 'zod';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export type FloatDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<FloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
  file: string;
}

const entrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

/** Header lengths above this are not a safetensors file (the format caps the header at 100 MB). */
const MAX_HEADER = 100_000_000;
/** fs reads are capped at 2 GiB - 1 per call: read big tensors in chunks. */
const CHUNK = 1 << 30;

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw new CheckpointError(`${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    try {
      const size = (await fh.stat()).size;
      const lenBuf = Buffer.alloc(8);
      if (size < 8 || (await fh.read(lenBuf, 0, 8, 0)).bytesRead !== 8) throw new CheckpointError(`${path}: too short to be a safetensors file`);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > MAX_HEADER || 8 + headerLen > size)
        throw new CheckpointError(`${path}: header length ${headerLen} is not valid (file is ${size} bytes)`);
      const headerBuf = Buffer.alloc(headerLen);
      await fh.read(headerBuf, 0, headerLen, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch (err) {
        throw new CheckpointError(`${path}: header is not JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      if (!header || typeof header !== 'object' || Array.isArray(header)) throw new CheckpointError(`${path}: header is not a JSON object`);
      const dataStart = 8 + headerLen;
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
        if (name === '__metadata__') {
          const m = z.record(z.string(), z.string()).safeParse(raw);
          metadata = m.success ? m.data : {};
          continue;
        }
        const r = entrySchema.safeParse(raw);
        if (!r.success) throw new CheckpointError(`${path}: header entry '${name}': ${r.error.issues[0]!.message}`);
        const [b, e] = r.data.data_offsets;
        const begin = dataStart + b;
        const end = dataStart + e;
        if (e < b || end > size)
          throw new CheckpointError(`${path}: tensor '${name}' data_offsets [${b}, ${e}] lie outside the file (${size} bytes)`);
        tensors.set(name, { name, dtype: r.data.dtype, shape: r.data.shape, begin, end, file: path });
      }
      return new SafetensorsFile(path, fh, tensors, metadata);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Checks that a tensor can be read (present, a float dtype, byte size matching its shape); returns its info. */
  check(name: string): TensorInfo & { dtype: FloatDtype; count: number } {
    const t = this.tensors.get(name);
    if (!t) throw new CheckpointError(`${this.path}: no tensor '${name}'`);
    if (!(t.dtype in BYTES))
      throw new CheckpointError(
        `${this.path}: tensor '${name}' has dtype ${t.dtype}; only F32, F16 and BF16 can be read (quantized checkpoints are not supported)`,
      );
    const dtype = t.dtype as FloatDtype;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count * BYTES[dtype] !== t.end - t.begin) {
      throw new CheckpointError(
        `${this.path}: tensor '${name}' holds ${t.end - t.begin} bytes but ${dtype} [${t.shape.join(', ')}] needs ${count * BYTES[dtype]}`,
      );
    }
    return { ...t, dtype, count };
  }

  /** Reads one tensor, widened to float32. */
  async read(name: string): Promise<Float32Array> {
    const t = this.check(name);
    if (t.dtype === 'F32') {
      const out = new Float32Array(t.count);
      await this.readInto(new Uint8Array(out.buffer), t.begin);
      return out;
    }
    const half = new Uint16Array(t.count);
    await this.readInto(new Uint8Array(half.buffer), t.begin);
    return t.dtype === 'BF16' ? bf16ToF32(half) : f16ToF32(half);
  }

  /** The same, synchronously: graph builders are synchronous and pull each tensor only when they place it. */
  readSync(name: string): Float32Array {
    const t = this.check(name);
    const out = t.dtype === 'F32' ? new Float32Array(t.count) : new Uint16Array(t.count);
    const dst = new Uint8Array(out.buffer);
    for (let off = 0; off < dst.length;) {
      const n = readSync(this.fh.fd, dst, off, Math.min(CHUNK, dst.length - off), t.begin + off);
      if (n === 0) throw new CheckpointError(`${this.path}: unexpected end of file`);
      off += n;
    }
    if (out instanceof Float32Array) return out;
    return t.dtype === 'BF16' ? bf16ToF32(out) : f16ToF32(out);
  }

  private async readInto(dst: Uint8Array, position: number): Promise<void> {
    for (let off = 0; off < dst.length;) {
      const n = Math.min(CHUNK, dst.length - off);
      const { bytesRead } = await this.fh.read(dst, off, n, position + off);
      if (bytesRead === 0) throw new CheckpointError(`${this.path}: unexpected end of file`);
      off += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** bfloat16 is the top half of a float32. */
export function bf16ToF32(h: Uint16Array): Float32Array {
  const u = new Uint32Array(h.length);
  for (let i = 0; i < h.length; i++) u[i] = h[i]! << 16;
  return new Float32Array(u.buffer);
}

/** IEEE half to float32 (subnormals, infinities and NaN included). */
export function f16ToF32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** float32 to bfloat16 with round-to-nearest-even (for writing test checkpoints). */
export function f32ToBf16(f: Float32Array): Uint16Array {
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const x = u[i]!;
    out[i] = (x + 0x7fff + ((x >> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 to IEEE half, round to nearest (for writing test checkpoints; normal range only). */
export function f32ToF16(f: Float32Array): Uint16Array {
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = f[i]!;
    const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
    const a = Math.abs(v);
    if (a < 2 ** -24) {
      out[i] = sign;
      continue;
    }
    if (a < 2 ** -14) {
      out[i] = sign | Math.round(a / 2 ** -24);
      continue;
    }
    let exp = Math.floor(Math.log2(a));
    let frac = Math.round((a / 2 ** exp - 1) * 1024);
    if (frac === 1024) {
      frac = 0;
      exp++;
    }
    out[i] = exp > 15 ? sign | 0x7c00 : sign | ((exp + 15) << 10) | frac;
  }
  return out;
}

export interface TensorToWrite {
  dtype: FloatDtype;
  shape: number[];
  data: Float32Array;
}

/** Encodes tensors as one safetensors file (used by tests and the bench to make checkpoints in the HF layout). */
export function encodeSafetensors(tensors: Record<string, TensorToWrite>, metadata: Record<string, string> = { format: 'pt' }): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    let bytes: Uint8Array;
    if (t.dtype === 'F32') bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    else {
      const h = t.dtype === 'BF16' ? f32ToBf16(t.data) : f32ToF16(t.data);
      bytes = new Uint8Array(h.buffer);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference implementation does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
