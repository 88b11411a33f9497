/** fp16 weights and external data round-trip into the self-contained float32 bytes the engine rewrites. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnx } from './onnx.js';
import { fromHalf, hasFp16, storeWeightsAsFp16, toHalf, upcastFp16 } from './fp16.js';
import { ExternalDataError, externalDataFiles, inlineExternalData, splitExternalData } from './external-data.js';
import { GraphBuilder, readInitializers } from './graph-builder.js';

function tinyGraph(): Uint8Array {
  const g = new GraphBuilder('t');
  const x = g.input('x', 'float32', [1, 64]);
  const w = g.float(
    'w',
    [64, 64],
    Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i) * 3),
  );
  g.o('MatMul', [x, w], {}, 'y');
  g.output('y', 'float32', [1, 64]);
  return g.encode();
}

describe('fp16', () => {
  it('half conversion rounds to nearest and keeps specials', () => {
    for (const v of [0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, 0.1, 1234.5])
      expect(Math.abs(fromHalf(toHalf(v)) - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 6e-8);
    expect(fromHalf(toHalf(Infinity))).toBe(Infinity);
    expect(Number.isNaN(fromHalf(toHalf(NaN)))).toBe(true);
    expect(fromHalf(toHalf(1e6))).toBe(Infinity);
  });

  it('weights stored as fp16 upcast back to float32 within half precision', () => {
    const bytes = storeWeightsAsFp16(tinyGraph());
    const model = onnx.ModelProto.decode(bytes);
    expect(hasFp16(model)).toBe(true);
    expect(upcastFp16(model)).toBe(1);
    expect(hasFp16(model)).toBe(false);
    const w = readInitializers(onnx.ModelProto.encode(model).finish()).get('w_fp16')!;
    const orig = readInitializers(tinyGraph()).get('w')!;
    let d = 0;
    for (let i = 0; i < orig.data.length; i++) d = Math.max(d, Math.abs(w.data[i]! - orig.data[i]!));
    expect(d).toBeLessThan(3 * 2 ** -11);
  });
});

describe('external data', () => {
  it('splits large initializers into a side file and inlines them back byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-ext-'));
    const { model, data } = splitExternalData(tinyGraph(), 'model.onnx_data');
    writeFileSync(join(dir, 'model.onnx_data'), data);
    const m = onnx.ModelProto.decode(model);
    expect(externalDataFiles(m)).toEqual(['model.onnx_data']);
    expect(inlineExternalData(m, dir)).toBe(1);
    expect(readInitializers(onnx.ModelProto.encode(m).finish()).get('w')!.data).toEqual(readInitializers(tinyGraph()).get('w')!.data);
  });

  it('names a missing side file and refuses locations outside the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-ext-'));
    const { model } = splitExternalData(tinyGraph(), 'model.onnx_data');
    expect(() => inlineExternalData(onnx.ModelProto.decode(model), dir)).toThrow(/model\.onnx_data: missing \(initializer w keeps its data there\)/);
    const evil = splitExternalData(tinyGraph(), '../../etc/passwd').model;
    expect(() => inlineExternalData(onnx.ModelProto.decode(evil), dir)).toThrow(ExternalDataError);
  });

  it('refuses an offset or length that is not a byte count, naming the initializer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-ext-'));
    const { model, data } = splitExternalData(tinyGraph(), 'model.onnx_data');
    writeFileSync(join(dir, 'model.onnx_data'), data);
    for (const bad of ['abc', '-8']) {
      const m = onnx.ModelProto.decode(model);
      const entry = m.graph!.initializer!.find((t) => t.name === 'w')!.externalData!.find((e) => e.key === 'offset')!;
      entry.value = bad;
      expect(() => inlineExternalData(m, dir)).toThrow(/initializer w: external data offset '.*' \/ length '.*' are not byte counts/);
    }
  });
});
