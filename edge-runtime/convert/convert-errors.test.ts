/** Conversion failures name the file at fault and say what is wrong; nothing is left behind in the output folder. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from './convert.js';
import { writeTestCheckpoint } from './test-checkpoint.js';
import { encodeSafetensors, SafetensorsFile, type TensorToWrite } from './safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-convert-err-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const shape = { hidden: 64, layers: 1, heads: 4, kvHeads: 2, headDim: 16, intermediate: 128, maxPositions: 64, ropeTheta: 10000, rmsEps: 1e-5 };

async function checkpoint(name: string, shards = 1): Promise<string> {
  const dir = join(root, name);
  await writeTestCheckpoint({ dir, spec: { family: 'llama', shape }, shards });
  return dir;
}

async function failure(from: string): Promise<string> {
  const to = join(root, `${from.split('/').pop()}-out`);
  const err = await convertCheckpoint({ from, to, quant: ['fp32'] }).then(
    () => new Error('converted'),
    (e: unknown) => e as Error,
  );
  expect(err.name).toBe('CheckpointError');
  expect(existsSync(to)).toBe(false);
  return err.message;
}

function editJson(path: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(path, JSON.stringify(j));
}

describe('convert errors', () => {
  it('an unsupported architecture names config.json and the model type', async () => {
    const dir = await checkpoint('arch');
    editJson(join(dir, 'config.json'), (j) => (j['model_type'] = 'phi3'));
    expect(await failure(dir)).toBe(
      `${join(dir, 'config.json')}: field 'model_type': 'phi3' is not supported (supported: llama, mistral, qwen2, gpt2)`,
    );
  });

  it('a missing shard names the shard and the index that lists it', async () => {
    const dir = await checkpoint('shard', 3);
    rmSync(join(dir, 'model-00002-of-00003.safetensors'));
    expect(await failure(dir)).toBe(
      `${join(dir, 'model-00002-of-00003.safetensors')}: missing shard (listed in ${join(dir, 'model.safetensors.index.json')})`,
    );
  });

  it('a dtype it cannot read names the file and the tensor', async () => {
    const dir = await checkpoint('dtype');
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    // Same length, so the byte offsets stay valid: the first tensor becomes int32.
    const header = bytes
      .subarray(8, 8 + headerLen)
      .toString('utf8')
      .replace('"dtype":"F32"', '"dtype":"I32"');
    bytes.write(header, 8, 'utf8');
    writeFileSync(file, bytes);
    expect(await failure(dir)).toBe(
      `${file}: tensor 'model.embed_tokens.weight' has dtype I32; only F32, F16 and BF16 can be read (quantized checkpoints are not supported)`,
    );
  });

  it('a tensor whose shape disagrees with config.json names the file, the tensor and both shapes', async () => {
    const dir = await checkpoint('shape');
    editJson(join(dir, 'config.json'), (j) => (j['intermediate_size'] = 96));
    expect(await failure(dir)).toBe(
      `${join(dir, 'model.safetensors')}: tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128, 64] but config.json implies [96, 64]`,
    );
  });

  it('tensors the graph would not use (an unsupported variant) are refused, not silently dropped', async () => {
    const dir = await checkpoint('extra');
    // Rebuild the file with one extra tensor, as a Qwen3-style q_norm would add.
    const f = await SafetensorsFile.open(join(dir, 'model.safetensors'));
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, t] of f.tensors) tensors[name] = { dtype: 'F32', shape: t.shape, data: await f.read(name) };
    await f.close();
    tensors['model.layers.0.self_attn.q_norm.weight'] = { dtype: 'F32', shape: [16], data: new Float32Array(16) };
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
    expect(await failure(dir)).toMatch(/model\.safetensors: tensor 'model\.layers\.0\.self_attn\.q_norm\.weight' not used by the llama graph/);
  });

  it('a folder without safetensors says so', async () => {
    const dir = await checkpoint('none');
    rmSync(join(dir, 'model.safetensors'));
    expect(await failure(dir)).toBe(`${join(dir, 'model.safetensors')}: missing, and no model.safetensors.index.json either`);
  });
});
