/** Convert reports each step (reading + building, writing): a redrawn bar on a terminal, plain lines otherwise. */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convertCheckpoint } from './convert.js';
import { streamProgress } from './progress.js';
import { writeTestCheckpoint } from './test-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-progress-'));
const from = join(root, 'ckpt');
afterAll(() => rm(root, { recursive: true, force: true }));
beforeAll(async () => {
  // Wide enough that the fp32 file passes several MiB, so the write step has ticks to show.
  const shape = { hidden: 256, layers: 2, heads: 4, kvHeads: 2, headDim: 64, intermediate: 1024, maxPositions: 64, ropeTheta: 10000, rmsEps: 1e-5 };
  await writeTestCheckpoint({ dir: from, spec: { family: 'llama', shape } });
});

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

it('plain lines off a terminal: each step starts, reports quarters, and ends', async () => {
  const { stream, text } = fakeStream(false);
  await convertCheckpoint({ from, to: join(root, 'plain'), quant: ['fp32'], progress: streamProgress(stream) });
  const out = text();
  expect(out).not.toContain('\r');
  expect(out).toMatch(/^fp32: read \+ build: started \(\d+\)$/m);
  expect(out).toMatch(/^fp32: read \+ build: done in [\d.]+ s$/m);
  expect(out).toMatch(/^fp32: write onnx\/model\.onnx: started \(\d+\)$/m);
  expect(out).toMatch(/^fp32: write onnx\/model\.onnx: \d+\/\d+$/m);
  expect(out).toMatch(/^fp32: write onnx\/model\.onnx: done in [\d.]+ s$/m);
  expect(out).toMatch(/^fp32: wrote onnx\/model\.onnx \([\d.]+ MB\)$/m);
});

it('a bar redrawn in place on a terminal, full at the end of each step', async () => {
  const { stream, text } = fakeStream(true);
  await convertCheckpoint({ from, to: join(root, 'tty'), quant: ['q4'], progress: streamProgress(stream) });
  const out = text();
  const full = `[${'#'.repeat(30)}]`;
  expect(out).toMatch(new RegExp(`\\rq4: read \\+ build \\[[#.]{30}\\] 0/\\d+`));
  expect(out).toContain(`\rq4: read + build ${full}`);
  expect(out).toContain(`\rq4: write onnx/model_q4.onnx ${full}`);
});
