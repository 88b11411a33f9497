/** The CLI entry points the lead routes `switchyard edge convert|quantize` to: arguments, summary, errors. */
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { CONVERT_USAGE, QUANTIZE_USAGE, convertCommand, quantizeCommand } from './convert-cli.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-convert-cli-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let out = '';
beforeEach(() => {
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

it('convert --quant fp32, then quantize --quant all into a new folder', async () => {
  const from = join(root, 'ckpt');
  const shape = { hidden: 64, layers: 1, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 64, ropeTheta: 10000, rmsEps: 1e-5 };
  await writeTestCheckpoint({ dir: from, spec: { family: 'qwen2', shape, biases: true, tied: true } });
  await convertCommand(['--from', from, '--to', join(root, 'fp32'), '--quant', 'fp32']);
  expect(out).toMatch(/^converted qwen2 \(1 layers, hidden 64, vocab 259, context 64\) in [\d.]+ s: /);
  expect(out).toContain('note: tied embeddings');
  await quantizeCommand(['--from', join(root, 'fp32'), '--to', join(root, 'quant')]);
  expect(existsSync(join(root, 'quant', 'onnx', 'model_q4.onnx'))).toBe(true);
  expect(existsSync(join(root, 'quant', 'onnx', 'model_quantized.onnx'))).toBe(true);
});

it('argument errors say what is expected', async () => {
  await expect(convertCommand(['--from', 'a'])).rejects.toThrow('--from and --to are required');
  await expect(convertCommand(['--from', 'a', '--to', 'b', '--quant', 'q8'])).rejects.toThrow('--quant q8: expected fp32, int8, q4 or all');
  await expect(quantizeCommand(['--from', 'a', '--to', 'b', '--quant', 'fp32'])).rejects.toThrow('--quant fp32: expected int8, q4 or all');
  await expect(convertCommand(['--from', 'a', '--to', 'b', '--accuracy-level', '9'])).rejects.toThrow('--accuracy-level 9: expected 0..4');
  await expect(quantizeCommand(['--from', 'a', '--to', 'b', '--block-size', '48'])).rejects.toThrow('--block-size 48: expected 16, 32, 64, 128, 256');
  await expect(convertCommand(['--bogus'])).rejects.toThrow();
});

it('the usage lines list the block sizes that are accepted', async () => {
  for (const usage of [CONVERT_USAGE, QUANTIZE_USAGE]) expect(usage).toContain('[--block-size 16|32|64|128|256]');
  for (const size of ['16', '256'])
    await expect(quantizeCommand(['--from', 'a', '--to', 'b', '--block-size', size])).rejects.not.toThrow(/--block-size/);
});
