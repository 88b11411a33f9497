/**
 * Batch overflow to the cloud's own Batch API: with the edge busy, lines the policy lets go are sent as one cloud
 * batch (the fake cloud's /files + /batches), collected into the gateway's output file and recorded at the batch
 * price; tagged (edge-only) lines never reach the cloud and run on the edge once it has room.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFile } from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { upstreamSchema } from '../../gateway/config/schema.js';
import type { UpstreamEngineStats } from '../../gateway/core/upstream.js';
import type { RequestContext } from '../../gateway/core/request-context.js';
import { toRecord } from '../../gateway/records/request-record.js';

const EMAIL = 'write to jane.doe@example.com about the invoice';
let cloud: FakeOpenAI;
let edgeServer: FakeOpenAI;
let gw: TestGateway;
let busy = true;
const completed: RequestContext[] = [];

const stats = (waiting: number, running: number): UpstreamEngineStats => ({
  model: 'm',
  waiting,
  running,
  preempted: 0,
  blocksUsed: 0,
  blocksFree: 100,
  blocksCachedFree: 0,
  kvUsage: 0,
  prefixHitRate: 0,
  tokensPerSecond: 0,
  predictedQueueWaitMs: 0,
  totalGenerated: 0,
});

beforeAll(async () => {
  cloud = await startFakeOpenAI();
  edgeServer = await startFakeOpenAI({ reply: 'from the edge' });
  // An edge destination whose engine reports interactive requests waiting while `busy`: no idle capacity for batches.
  const edge = Object.assign(new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'edge', url: edgeServer.url, zone: 'edge', models: ['m'] })), {
    engineStats: () => (busy ? stats(3, 8) : stats(0, 0)),
  });
  const dir = mkdtempSync(join(tmpdir(), 'sy-overflow-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'version: 1\ntags:\n  pii: { route: edge-only }\nrules:\n  - id: edge-first\n    route: [edge, cloud]\n');
  gw = await startTestGateway(
    {
      policies: { file: policy },
      upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'], batch_discount: 0.5 }],
      prices: { models: { m: { input_per_m: 2, output_per_m: 8 } } },
      batch: { overflow: { to: 'cloud', after_ms: 0, poll_ms: 50 } },
    },
    { extraUpstreams: [edge], onComplete: (ctx) => completed.push(ctx) },
  );
}, 60_000);
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
  await edgeServer?.close();
});

describe('batch overflow to the cloud Batch API', () => {
  it('sends allowed lines as one cloud batch, keeps tagged lines on the edge, and records the batch price', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => ({
      custom_id: `line-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: [{ role: 'user', content: i < 2 ? `${EMAIL} ${i}` : `question number ${i}` }] },
    }));
    const file = await gw.client.files.create({
      file: await toFile(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), 'in.jsonl'),
      purpose: 'batch',
    });
    const batch = await gw.client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    await waitUntil(() => cloud.batch.lines.length >= 8, { timeoutMs: 30_000 });
    expect(cloud.batch.batchesCreated).toBe(1);
    expect(cloud.batch.lines.map((l) => l.custom_id).sort()).toEqual(
      lines
        .slice(2)
        .map((l) => l.custom_id)
        .sort(),
    );
    // Privacy: no tagged content in anything the cloud received.
    expect(JSON.stringify(cloud.batch.lines)).not.toContain('jane.doe');
    expect(cloud.requests.some((r) => r.path.endsWith('/chat/completions'))).toBe(false);

    // The edge frees up: the tagged lines run there and the batch completes.
    busy = false;
    let status = '';
    let outputId: string | null | undefined;
    await waitUntil(
      async () => {
        const b = await gw.client.batches.retrieve(batch.id);
        status = b.status;
        outputId = b.output_file_id;
        return status === 'completed';
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const out = (await (await gw.client.files.content(outputId!)).text())
      .split('\n')
      .filter((l) => l.trim())
      .map(
        (l) => JSON.parse(l) as { custom_id: string; response: { status_code: number; body: { choices: Array<{ message: { content: string } }> } } },
      );
    expect(out).toHaveLength(10);
    expect(new Set(out.map((o) => o.custom_id)).size).toBe(10);
    for (const o of out) {
      const text = o.response.body.choices[0]!.message.content;
      if (o.custom_id === 'line-0' || o.custom_id === 'line-1') expect(text).toBe('from the edge');
      else expect(text).toBe(`echo: question number ${o.custom_id.slice(5)}`);
    }

    // Records: the cloud batch lines at half the cloud price.
    const viaCloud = completed.filter((c) => c.upstream === 'cloud');
    expect(viaCloud).toHaveLength(8);
    const rec = toRecord(viaCloud[0]!, (u) => (u === 'cloud' ? 'cloud' : 'edge'), gw.config.prices);
    const full = (rec.prompt_tokens * 2 + rec.completion_tokens * 8) / 1e6;
    expect(rec.cost_usd).toBeCloseTo(full * 0.5, 12);
    expect(rec.all_cloud_cost_usd).toBeCloseTo(full, 12);
  });
});
