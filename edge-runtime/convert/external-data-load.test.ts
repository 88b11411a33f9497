/**
 * Models whose weights live in `onnx/<file>_data` (the only way past protobuf's 2 GiB limit): the engine hands ORT the
 * graph alone and ORT reads the side file itself, so the weights are never copied through JS; greedy output equals the
 * same checkpoint converted with inline weights. The writer's own >2 GiB path (offsets past 2^31, the automatic switch
 * to external data) is checked with real files, the weights placed behind 2.25 GiB of padding that shares one buffer.
 */
import { mkdtempSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLlamaGraph, buildLlamaGraphInto } from '../graph/llama-graph.js';
import { randomLlamaWeights } from '../graph/llama-weights.js';
import { onnx } from '../graph/onnx.js';
import { loadOnnxFile } from '../model/load-onnx.js';
import { PRESETS } from '../model/presets.js';
import { convertCheckpoint } from './convert.js';
import { engineFor, engineGreedy } from './engine-greedy.js';
import { StreamingGraphBuilder } from './streaming-onnx-writer.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-external-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const shape = { hidden: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 256, ropeTheta: 10000, rmsEps: 1e-5 };
const prompts = [[10, 20, 30, 40, 50, 60, 70], [1, 2, 3], Array.from({ length: 40 }, (_, i) => (i * 29 + 5) % 256)];

describe('engine over a converted folder with external data', () => {
  const inline = join(root, 'inline');
  const external = join(root, 'external');
  beforeAll(async () => {
    const from = join(root, 'ckpt');
    await writeTestCheckpoint({ dir: from, spec: { family: 'llama', shape }, dtype: 'F32', shards: 2, seed: 11 });
    await convertCheckpoint({ from, to: inline, quant: ['fp32', 'q4'], externalData: false });
    await convertCheckpoint({ from, to: external, quant: ['fp32', 'q4'], externalData: true });
  });

  it.each(['fp32', 'q4'] as const)('%s: the model bytes hold the graph only, ORT reads the side file', async (variant) => {
    const file = variant === 'fp32' ? 'model.onnx' : 'model_q4.onnx';
    const loaded = await loadOnnxFile(join(external, 'onnx', file));
    const dataBytes = statSync(join(external, 'onnx', `${file}_data`)).size;
    expect(loaded.externalData).toEqual([`${file}_data`]);
    expect(loaded.externalDataDir).toBe(join(external, 'onnx'));
    // The weights were not inlined: what goes to ORT is the graph file as it is on disk, smaller than its side file.
    expect(loaded.bytes.length).toBe(statSync(join(external, 'onnx', file)).size);
    expect(loaded.bytes.length).toBeLessThan(dataBytes);
    const e = await engineFor(external, variant);
    expect(e.load).toMatchObject({ variant, path: 'paged', externalData: [`${file}_data`] });
    const ref = await engineFor(inline, variant);
    expect(await engineGreedy(e, prompts, 16)).toEqual(await engineGreedy(ref, prompts, 16));
  });

  it('a missing or short side file fails at load naming the file and the tensor', async () => {
    const dir = join(root, 'broken');
    await mkdir(dir, { recursive: true });
    await copyFile(join(external, 'onnx', 'model.onnx'), join(dir, 'model.onnx'));
    await expect(loadOnnxFile(join(dir, 'model.onnx'))).rejects.toThrow(/broken\/model\.onnx_data: missing \(initializer \S+ keeps its data there\)/);
    await writeFile(join(dir, 'model.onnx_data'), new Uint8Array(100));
    await expect(loadOnnxFile(join(dir, 'model.onnx'))).rejects.toThrow(
      /broken\/model\.onnx_data: too short for initializer \S+ \(needs \d+ bytes\)/,
    );
  });
});

/** 2.25 GiB of padding on disk; memory stays at one 256 MiB buffer. Skipped where the disk has too little room. */
const freeBytes = (() => {
  const s = statfsSync(tmpdir());
  return s.bavail * s.bsize;
})();
const PAD_PART = 256 * 2 ** 20;
const PAD_PARTS = 9;

describe.skipIf(freeBytes < 8 * 2 ** 30)('writer past 2 GiB', () => {
  it('switches to external data by itself, offsets past 2^31 read back by ORT with the same logits', { timeout: 180_000 }, async () => {
    const s = { ...PRESETS['tiny-llama'].shape, vocab: 259 };
    const w = randomLlamaWeights(s, 9);
    const g = new StreamingGraphBuilder('switchyard-llama');
    // Unused initializers first, so every real weight sits past 2^31 in the side file; ORT drops unused ones.
    const pad = new Uint8Array(PAD_PART);
    for (let i = 0; i < PAD_PARTS; i++) g.raw(`padding.${i}`, onnx.TensorProto.DataType.UINT8, [PAD_PART], pad);
    buildLlamaGraphInto(g, s, w, { format: 'fp32' });
    expect(g.needsExternalData()).toBe(true);
    const dir = join(root, 'big');
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'model.onnx');
    const total = await g.writeTo(path);
    const data = statSync(`${path}_data`).size;
    expect(data).toBeGreaterThan(2 ** 31);
    expect(statSync(path).size).toBeLessThan(1_000_000);
    expect(statSync(path).size + data).toBe(total);
    const model = onnx.ModelProto.decode(readFileSync(path));
    const offsets = (model.graph?.initializer ?? [])
      .filter((t) => !(t.name ?? '').startsWith('padding.') && t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
      .map((t) => Number(t.externalData?.find((e) => e.key === 'offset')?.value));
    expect(offsets.length).toBeGreaterThan(0);
    expect(Math.min(...offsets)).toBeGreaterThan(2 ** 31);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([3n, 4n, 5n]), [1, 3]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n]), [1, 3]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n]), [1, 3]),
    };
    for (let l = 0; l < s.layers; l++)
      for (const kv of ['key', 'value'])
        feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, s.kvHeads, 0, s.headDim]);
    const big = await ort.InferenceSession.create(path);
    const small = await ort.InferenceSession.create(buildLlamaGraph(s, w, { format: 'fp32' }));
    const a = (await big.run(feeds))['logits']!.data as Float32Array;
    const b = (await small.run(feeds))['logits']!.data as Float32Array;
    await Promise.all([big.release(), small.release()]);
    expect(Array.from(a)).toEqual(Array.from(b));
    await rm(dir, { recursive: true, force: true });
  });
});
