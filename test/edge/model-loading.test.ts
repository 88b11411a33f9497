/** How the gateway serves edge model folders as users have them: variant auto, a model still loading, a model that cannot load. */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APIError } from 'openai';
import { startTestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { testModel } from '../../edge-runtime/testing/test-models.js';

/** A copy of the test model folder holding only the given onnx files. */
async function folderWith(files: string[]): Promise<string> {
  const src = await testModel('tiny-llama', 1);
  const dir = mkdtempSync(join(tmpdir(), 'sy-edge-folder-'));
  cpSync(src, dir, { recursive: true });
  for (const f of ['model.onnx', 'model_quantized.onnx', 'model_q4.onnx']) if (!files.includes(f)) rmSync(join(dir, 'onnx', f), { force: true });
  return dir;
}

const ask = { messages: [{ role: 'user' as const, content: 'hello' }], max_tokens: 4, temperature: 0 };

describe('edge model folders through the gateway', () => {
  it('serves a folder with only onnx/model.onnx (variant auto), answering a request sent while it still loads', async () => {
    const dir = await folderWith(['model.onnx']);
    // on_load_failure: serve starts listening before the model is loaded: the first request must wait, not get 503.
    const gw = await startTestGateway({
      edge: { enabled: true, on_load_failure: 'serve', models: [{ id: 'only-fp32', path: dir }], kv_budget_mb: 16 },
    });
    try {
      const r = await gw.client.chat.completions.create({ model: 'only-fp32', ...ask });
      expect(r.usage?.completion_tokens).toBe(4);
      const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as {
        upstreams: Array<{ id: string; state?: string; path?: string; reason?: string }>;
      };
      const edge = ready.upstreams.find((u) => u.id === 'edge');
      expect(edge?.state).toBe('ready');
      expect(edge?.path).toBe('paged');
      expect(edge?.reason).toMatch(/model\.onnx/);
      // Gauges read the stats the worker posts every 250 ms.
      const gauge = /switchyard_edge_execution_path\{upstream="edge",model="only-fp32",path="paged",variant="fp32"\} 1/;
      await waitUntil(async () => gauge.test(await (await fetch(`${gw.url}/metrics`)).text()), { timeoutMs: 10_000 });
    } finally {
      await gw.shutdown();
    }
  });

  it('a model that cannot load is a startup error by default', async () => {
    const dir = await folderWith([]); // no weight file at all
    await expect(startTestGateway({ edge: { enabled: true, models: [{ id: 'broken', path: dir }], kv_budget_mb: 16 } })).rejects.toThrow(
      /edge model cannot be served.*broken/,
    );
  });

  it('with on_load_failure: serve, /readyz is 503 and /v1/models and requests say why', async () => {
    const dir = await folderWith([]);
    const gw = await startTestGateway({ edge: { enabled: true, on_load_failure: 'serve', models: [{ id: 'broken', path: dir }], kv_budget_mb: 16 } });
    try {
      const err = await gw.client.chat.completions.create({ model: 'broken', ...ask }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(503);
      expect((err as APIError).message).toMatch(/cannot be served/);
      const readyz = await fetch(`${gw.url}/readyz`);
      expect(readyz.status).toBe(503);
      const models = (await (await fetch(`${gw.url}/v1/models`)).json()) as {
        data: Array<{ id: string; available?: boolean; unavailable_reason?: string }>;
      };
      const m = models.data.find((x) => x.id === 'broken');
      expect(m?.available).toBe(false);
      expect(m?.unavailable_reason).toMatch(/onnx/);
    } finally {
      await gw.shutdown();
    }
  });
});
