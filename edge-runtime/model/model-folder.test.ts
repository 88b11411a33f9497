/** Loading validates the folder and names the missing or wrong file and field. */
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelFolder, ModelFolderError, variantPath } from './model-folder.js';
import { testModel } from '../testing/test-models.js';

let good: string;
beforeAll(async () => {
  good = await testModel('tiny-llama', 1);
});

function copy(): string {
  const d = mkdtempSync(join(tmpdir(), 'sy-bad-model-'));
  cpSync(good, d, { recursive: true });
  return d;
}

describe('loadModelFolder', () => {
  it('loads a built folder with its shape and files', () => {
    const spec = loadModelFolder(good);
    expect(spec.family).toBe('llama');
    expect(spec.layers).toBe(2);
    expect(spec.kvHeads).toBe(2);
    expect(spec.headDim).toBe(16);
    expect(Object.keys(spec.onnxFiles).sort()).toEqual(['fp32', 'int8', 'q4']);
    expect(spec.eosIds.length).toBeGreaterThan(0);
  });

  it('names a missing file', () => {
    const d = copy();
    rmSync(join(d, 'tokenizer.json'));
    expect(() => loadModelFolder(d)).toThrow(ModelFolderError);
    expect(() => loadModelFolder(d)).toThrow(/tokenizer\.json: missing/);
  });

  it('names a wrong config field', () => {
    const d = copy();
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
    cfg['num_hidden_layers'] = 'two';
    writeFileSync(join(d, 'config.json'), JSON.stringify(cfg));
    expect(() => loadModelFolder(d)).toThrow(/config\.json: field 'num_hidden_layers'/);
  });

  it('names corrupt JSON and a missing variant', () => {
    const d = copy();
    writeFileSync(join(d, 'tokenizer_config.json'), '{ not json');
    expect(() => loadModelFolder(d)).toThrow(/tokenizer_config\.json: not valid JSON/);
    const e = copy();
    rmSync(join(e, 'onnx', 'model_q4.onnx'));
    expect(() => variantPath(loadModelFolder(e), 'q4')).toThrow(/model_q4\.onnx: missing; this folder has model\.onnx, model_quantized\.onnx/);
  });
});

describe('variant choice', () => {
  it('auto takes the first present in the documented order; dynamically quantized files rank last', async () => {
    const { chooseVariant, AUTO_ORDER } = await import('./variants.js');
    expect(AUTO_ORDER.slice(0, 5)).toEqual(['q4', 'bnb4', 'q4f16', 'fp32', 'fp16']);
    expect(chooseVariant(good).variant).toBe('q4');
    const d = copy();
    rmSync(join(d, 'onnx', 'model_q4.onnx'));
    expect(chooseVariant(d).variant).toBe('fp32');
    rmSync(join(d, 'onnx', 'model.onnx'));
    const c = chooseVariant(d);
    expect(c.variant).toBe('int8');
    expect(c.reason).toMatch(/model_q4\.onnx > .* > model_quantized\.onnx/);
    expect(chooseVariant(d, 'model_quantized.onnx').variant).toBe('int8');
    expect(() => chooseVariant(d, 'fp32')).toThrow(/model\.onnx: missing; this folder has model_quantized\.onnx; use --variant int8/);
    expect(() => chooseVariant(d, 'q3')).toThrow(/unknown variant 'q3'/);
  });
});
