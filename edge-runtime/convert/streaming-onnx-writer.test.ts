/** The streamed file decodes to the same model as GraphBuilder.encode() (fields reordered, content identical). */
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
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
