/** vLLM upstreams report their load through /metrics; pools balanced by reported load send work to the idle one. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

let busy: FakeOpenAI;
let idle: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  busy = await startFakeOpenAI({ reply: 'busy replica' });
  idle = await startFakeOpenAI({ reply: 'idle replica' });
  busy.metricsText =
    '# HELP vllm:num_requests_waiting x\nvllm:num_requests_waiting{model_name="m"} 12\nvllm:gpu_cache_usage_perc{model_name="m"} 0.9\n';
  idle.metricsText = 'vllm:num_requests_waiting{model_name="m"} 0\nvllm:gpu_cache_usage_perc{model_name="m"} 0.1\n';
  const file = join(mkdtempSync(join(tmpdir(), 'sy-vllm-')), 'policy.yaml');
  writeFileSync(file, 'version: 1\nrules:\n  - id: pool\n    route: [{ pool: [vllm-a, vllm-b], balance: reported_load }]\n');
  gw = await startTestGateway({
    policies: { file },
    upstreams: [
      { id: 'vllm-a', url: busy.url, models: ['m'], metrics_url: `${busy.url.replace(/\/v1$/, '')}/metrics`, metrics_poll_ms: 100 },
      { id: 'vllm-b', url: idle.url, models: ['m'], metrics_url: `${idle.url.replace(/\/v1$/, '')}/metrics`, metrics_poll_ms: 100 },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await busy?.close();
  await idle?.close();
});

describe('vLLM load', () => {
  it('reads waiting requests and KV usage, and the pool prefers the idle replica', async () => {
    const a = gw.upstreams.find((u) => u.id === 'vllm-a')!;
    await waitUntil(() => a.load().queueDepth === 12, { timeoutMs: 10_000 });
    expect(a.load().kvFreeFraction).toBeCloseTo(0.1, 6);
    const r = await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'who' }] });
    expect(r.choices[0]!.message.content).toBe('idle replica');
    // Load changes: the other replica drains, this one fills up.
    busy.metricsText = 'vllm:num_requests_waiting 0\nvllm:gpu_cache_usage_perc 0.1\n';
    idle.metricsText = 'vllm:num_requests_waiting 30\nvllm:gpu_cache_usage_perc 0.95\n';
    await waitUntil(
      async () =>
        (await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'again' }] })).choices[0]!.message.content ===
        'busy replica',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });
});
