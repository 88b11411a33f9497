/**
 * Writes a model built with the project's GraphBuilder straight to a file, without encoding it in memory first: the
 * builder keeps each initializer's bytes aside (a placeholder goes into the graph), the small skeleton is encoded by
 * protobufjs, and the file is written as skeleton fields followed by each initializer's field with its bytes. Protobuf
 * allows a message's fields in any order and a length-delimited field's length is known up front (byte sizes are), so
 * the output parses exactly like `encode()`'s. Peak memory is the weights themselves, not weights + encoded copy.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GraphBuilder } from '../graph/graph-builder.js';
import { onnx, type O } from '../graph/onnx.js';

const EMPTY = new Uint8Array(0);

export class StreamingGraphBuilder extends GraphBuilder {
  private readonly payloads = new Map<string, Uint8Array>();

  override float(name: string, dims: number[], data: Float32Array): string {
    this.payloads.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return super.raw(name, onnx.TensorProto.DataType.FLOAT, dims, EMPTY);
  }

  override raw(name: string, dataType: number, dims: number[], bytes: Uint8Array): string {
    this.payloads.set(name, bytes);
    return super.raw(name, dataType, dims, EMPTY);
  }

  /** Bytes the finished file will have. */
  payloadBytes(): number {
    let n = 0;
    for (const p of this.payloads.values()) n += p.length;
    return n;
  }

  /** protobuf caps a message at 2 GiB: weights past that (less a margin for the graph) must go to a side file. */
  needsExternalData(): boolean {
    return this.payloadBytes() >= 2 ** 31 - 2 ** 24;
  }

  /**
   * Writes the model to `path`; returns the bytes written (model file + external data). With `externalData` (by
   * default when `needsExternalData()`), every initializer of 1 KiB or more goes to `<file>_data` beside it (4
   * KiB-aligned, as ORT writes it): the way past protobuf's 2 GiB message limit; the .onnx file then holds the graph.
   * Writes once: the weights are released afterwards.
   */
  async writeTo(path: string, opts: { externalData?: boolean; onBytes?: (written: number) => void } = {}): Promise<number> {
    const external = opts.externalData ?? this.needsExternalData();
    const model = onnx.ModelProto.decode(this.encode());
    const graph = model.graph!;
    const inits = graph.initializer ?? [];
    graph.initializer = [];
    const modelHead = onnx.ModelProto.encode({ ...model, graph: undefined }).finish();
    const graphHead = onnx.GraphProto.encode(graph).finish();
    const dataName = `${basename(path)}_data`;
    const data = external ? await open(join(dirname(path), dataName), 'w') : undefined;
    let dataLen = 0;
    // Each initializer: field 5 of GraphProto, holding a TensorProto whose raw_data (field 9) follows its other fields.
    const parts: Array<{ head: Uint8Array; raw: Uint8Array; bodyLen: number }> = [];
    try {
      for (const t of inits) {
        let raw = this.payloads.get(t.name ?? '') ?? EMPTY;
        let head: Uint8Array;
        if (data && raw.length >= 1024) {
          const offset = Math.ceil(dataLen / 4096) * 4096;
          if (offset > dataLen) await writeAll(data, new Uint8Array(offset - dataLen));
          await writeAll(data, raw);
          dataLen = offset + raw.length;
          opts.onBytes?.(dataLen);
          const externalData = [
            { key: 'location', value: dataName },
            { key: 'offset', value: String(offset) },
            { key: 'length', value: String(raw.length) },
          ];
          head = onnx.TensorProto.encode({ ...(t as O.ITensorProto), rawData: undefined, dataLocation: 1, externalData }).finish();
          raw = EMPTY;
        } else {
          head = onnx.TensorProto.encode({ ...(t as O.ITensorProto), rawData: undefined }).finish();
        }
        parts.push({ head, raw, bodyLen: head.length + (raw.length > 0 ? 1 + varintLen(raw.length) + raw.length : 0) });
      }
    } finally {
      await data?.close();
    }
    const graphLen = graphHead.length + parts.reduce((a, p) => a + 1 + varintLen(p.bodyLen) + p.bodyLen, 0);
    const fh = await open(path, 'w');
    let written = 0;
    const write = async (b: Uint8Array) => {
      await writeAll(fh, b);
      written += b.length;
      if (b.length >= 1024) opts.onBytes?.(dataLen + written);
    };
    try {
      await write(modelHead);
      await write(Uint8Array.from([(7 << 3) | 2, ...varint(graphLen)]));
      await write(graphHead);
      for (const p of parts) {
        await write(Uint8Array.from([(5 << 3) | 2, ...varint(p.bodyLen)]));
        await write(p.head);
        if (p.raw.length > 0) {
          await write(Uint8Array.from([(9 << 3) | 2, ...varint(p.raw.length)]));
          await write(p.raw);
        }
      }
    } finally {
      await fh.close();
    }
    // The builder is spent: drop the weights so they are not held while the caller builds its next variant.
    this.payloads.clear();
    return written + dataLen;
  }
}

async function writeAll(fh: FileHandle, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) {
    const { bytesWritten } = await fh.write(b, off, Math.min(b.length - off, 1 << 30));
    off += bytesWritten;
  }
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function varintLen(n: number): number {
  return varint(n).length;
}
