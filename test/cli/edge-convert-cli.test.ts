/** A user's path from a Hugging Face checkpoint to a served edge model, through the real `switchyard` CLI only. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { writeTestCheckpoint } from '../../edge-runtime/convert/test-checkpoint.js';

const run = promisify(execFile);
const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', ...args], { timeout: 120_000 });

it('edge convert writes a folder that edge inspect resolves to the paged path, with variant auto picking q4', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sy-cli-convert-'));
  const from = join(root, 'ckpt');
  const shape = { hidden: 64, layers: 1, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 64, ropeTheta: 10000, rmsEps: 1e-5 };
  await writeTestCheckpoint({ dir: from, spec: { family: 'qwen2', shape, biases: true, tied: true } });
  const to = join(root, 'model');
  const converted = await cli(['edge', 'convert', '--from', from, '--to', to, '--quant', 'all']);
  expect(converted.stdout).toMatch(/converted qwen2/);
  const inspected = JSON.parse((await cli(['edge', 'inspect', to, '--json'])).stdout) as {
    variant: { chosen: string };
    execution: { ok: boolean; path?: string };
  };
  expect(inspected.variant.chosen).toBe('q4');
  expect(inspected.execution.ok).toBe(true);
  expect(inspected.execution.path).toBe('paged');
  const bad = await cli(['edge', 'convert', '--from', join(root, 'nowhere'), '--to', join(root, 'x')]).catch(
    (e: { stderr: string; code: number }) => e,
  );
  expect((bad as { code: number }).code).not.toBe(0);
  expect((bad as { stderr: string }).stderr).toMatch(/nowhere/);
}, 180_000);
