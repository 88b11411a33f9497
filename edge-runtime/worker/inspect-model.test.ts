/** `edge inspect` reports what the engine will do, decided the way the engine decides at load. */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/graph-builder.js';
import { formatInspection, inspectModelFolder } from './inspect-model.js';
import { exportTestModel } from '../model/export-fixtures.js';

describe('inspectModelFolder', () => {
  it('reports architecture, parameters, files, variant, tokenizer, execution path and KV bytes per token', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', seed: 5, variants: ['fp32'], externalData: true });
    const r = await inspectModelFolder(dir);
    expect(r.architecture).toBe('LlamaForCausalLM');
    expect(r.parameters).toBeGreaterThan(100_000);
    expect(r.files.map((f) => f.file)).toEqual(['model.onnx', 'model.onnx_data']);
    expect(r.variant.chosen).toBe('fp32');
    expect(r.tokenizer.chatTemplate).toBe(true);
    expect(r.execution).toMatchObject({ ok: true, path: 'paged', externalData: ['model.onnx_data'] });
    expect(r.kvBytesPerToken).toBe(2 * 2 * 2 * 16 * 4);
    expect(r.ops['Shape']).toBeGreaterThan(5);
    expect(formatInspection(r)).toMatch(/execution {6}paged: paged path, proven at load/);
  });

  it('names the fallback path and why the paged rewrite was rejected', async () => {
    const dir = await exportTestModel({ preset: 'tiny-llama', seed: 3, variants: ['fp32'], positionIds: false });
    const r = await inspectModelFolder(dir);
    expect(r.execution).toMatchObject({ ok: true, path: 'assembled-grouped' });
    if (r.execution.ok) expect(r.execution.rejected.map((x) => x.mode)).toEqual(['paged', 'assembled']);
  });

  it('says why a graph cannot be served (not a decoder with past)', async () => {
    const src = await exportTestModel({ preset: 'tiny-llama', seed: 5, variants: ['fp32'], externalData: true });
    const dir = mkdtempSync(join(tmpdir(), 'sy-not-decoder-'));
    cpSync(src, dir, { recursive: true });
    const g = new GraphBuilder('not-a-decoder');
    g.o('Cast', [g.input('input_ids', 'int64', ['b', 's'])], { to: 1 }, 'logits');
    g.output('logits', 'float32', ['b', 's']);
    writeFileSync(join(dir, 'onnx', 'model.onnx'), g.encode());
    const r = await inspectModelFolder(dir);
    expect(r.execution).toMatchObject({ ok: false });
    if (!r.execution.ok) expect(r.execution.error).toMatch(/does not run as a decoder with past/);
  });
});
