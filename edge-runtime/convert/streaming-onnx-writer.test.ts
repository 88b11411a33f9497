/** The streamed file decodes to the same model as GraphBuilder.encode() (fields reordered, content identical); external data loads. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildLlamaGraph, buildLlamaGraphInto } from '../graph/llama-graph.js';
import { randomLlamaWeights } from '../graph/llama-weights.js';
import { onnx } from '../graph/onnx.js';
import { PRESETS } from '../model/presets.js';
import { StreamingGraphBuilder } from './streaming-onnx-writer.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-stream-'));
afterAll(() => rm(root, { recursive: true, force: true }));

it.each(['fp32', 'q4'] as const)('streams a %s model that decodes identically to encode()', async (format) => {
  const s = { ...PRESETS['tiny-llama'].shape, vocab: 259 };
  const w = randomLlamaWeights(s, 4);
  const lin = { format, quantizeEmbeddings: true };
  const whole = buildLlamaGraph(s, w, lin);
  const g = buildLlamaGraphInto(new StreamingGraphBuilder('switchyard-llama'), s, w, lin);
  const path = join(root, `${format}.onnx`);
  const size = await g.writeTo(path);
  const streamed = readFileSync(path);
  expect(size).toBe(streamed.length);
  const norm = (b: Uint8Array) => onnx.ModelProto.toObject(onnx.ModelProto.decode(b), { bytes: String, longs: String });
  expect(norm(streamed)).toEqual(norm(whole));
});

it('writes weights as external data that onnxruntime loads from the model path, with the same logits', async () => {
  const s = { ...PRESETS['tiny-llama'].shape, vocab: 259 };
  const w = randomLlamaWeights(s, 5);
  const dir = join(root, 'external');
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  const total = await buildLlamaGraphInto(new StreamingGraphBuilder('switchyard-llama'), s, w, { format: 'q4' }).writeTo(path, {
    externalData: true,
  });
  expect(statSync(path).size).toBeLessThan(100_000);
  expect(statSync(path).size + statSync(`${path}_data`).size).toBe(total);
  const feeds = (): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([3n, 4n, 5n]), [1, 3]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n]), [1, 3]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n]), [1, 3]),
    };
    for (let l = 0; l < s.layers; l++)
      for (const kv of ['key', 'value'])
        f[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, s.kvHeads, 0, s.headDim]);
    return f;
  };
  const ext = (await (await ort.InferenceSession.create(path)).run(feeds()))['logits']!.data as Float32Array;
  const inline = (await (await ort.InferenceSession.create(buildLlamaGraph(s, w, { format: 'q4' }))).run(feeds()))['logits']!.data as Float32Array;
  expect(Array.from(ext)).toEqual(Array.from(inline));
});
