/** Costs and savings through a real gateway: cache hits, aliases, unpriced cloud models. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { readJsonlRecords } from '../../gateway/records/jsonl-sink.js';
import { buildReport } from '../../gateway/report/report.js';
import type { RequestRecord } from '../../gateway/records/request-record.js';

let edgeLike: FakeOpenAI;
let cloud: FakeOpenAI;
const PRICE = { input_per_m: 150, output_per_m: 600 };
const priceOf = (r: RequestRecord) => (r.prompt_tokens * PRICE.input_per_m + r.completion_tokens * PRICE.output_per_m) / 1e6;

beforeAll(async () => {
  edgeLike = await startFakeOpenAI();
  cloud = await startFakeOpenAI();
});
afterAll(async () => {
  await edgeLike?.close();
  await cloud?.close();
});

describe('cost attribution', () => {
  it('attributes cache hits to the destination that answered, counts them as saved, and prices aliases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-costs-'));
    const gw = await startTestGateway({
      records: { sink: 'jsonl', dir },
      prices: { models: { 'gpt-4o-mini': PRICE } },
      upstreams: [
        // An edge-zone destination first: without a policy it answers gpt-4o-mini.
        { id: 'edgebox', zone: 'edge', url: edgeLike.url, models: ['gpt-4o-mini'] },
        { id: 'fakecloud', url: cloud.url, models: [{ id: 'fast', upstream_model: 'gpt-4o-mini' }] },
      ],
    });
    const ask = { model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user' as const, content: 'cache me' }] };
    await gw.client.chat.completions.create(ask);
    await gw.client.chat.completions.create(ask); // hit
    const streamAsk = { ...ask, messages: [{ role: 'user' as const, content: 'stream and cache me' }], stream: true as const };
    for (let i = 0; i < 2; i++) for await (const _ of await gw.client.chat.completions.create(streamAsk)); // miss, then hit
    await gw.client.chat.completions.create({ model: 'fast', temperature: 1, messages: [{ role: 'user', content: 'alias' }] });
    await gw.shutdown();
    expect(edgeLike.served).toBe(2);

    const { records } = await readJsonlRecords(dir, 0, Date.now() + 1);
    expect(records).toHaveLength(5);
    const hits = records.filter((r) => r.cache === 'hit');
    expect(hits).toHaveLength(2);
    for (const h of hits) {
      expect(h).toMatchObject({ destination: 'edgebox', zone: 'device', served_model: 'gpt-4o-mini', cost_usd: 0 });
      expect(h.all_cloud_cost_usd).toBeGreaterThan(0);
      expect(h.all_cloud_cost_usd).toBeCloseTo(priceOf(h), 12);
    }
    const alias = records.find((r) => r.model === 'fast')!;
    expect(alias).toMatchObject({ destination: 'fakecloud', served_model: 'gpt-4o-mini' });
    expect(alias.cost_usd).toBeGreaterThan(0);
    expect(alias.cost_usd).toBeCloseTo(priceOf(alias), 12);

    const report = buildReport(records, 0, Date.now() + 1);
    expect(report.tables.destination!.map((d) => d.group).sort()).toEqual(['edgebox', 'fakecloud']);
    const edge = report.tables.destination!.find((d) => d.group === 'edgebox')!;
    expect(edge.cost_usd).toBe(0);
    expect(edge.savings_usd).toBeCloseTo(
      records.filter((r) => r.destination === 'edgebox').reduce((a, r) => a + priceOf(r), 0),
      12,
    );
    expect(report.savings.saved_usd).toBeCloseTo(edge.savings_usd, 12);
    expect(report.savings.saved_fraction!).toBeGreaterThan(0.5);
  });

  it('warns at start about cloud models without a price', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-costs-'));
    const cfg = join(dir, 'gw.yaml');
    writeFileSync(
      cfg,
      `server: { port: 0 }\nedge: { enabled: false }\nrecords: { sink: none }\nprices: { models: { priced: { input_per_m: 1, output_per_m: 1 } } }\nupstreams:\n  - { id: c, url: "${cloud.url}", models: [priced, unpriced, { id: alias, upstream_model: priced }] }\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/cli/main.ts', 'serve', '--config', cfg, '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitUntil(() => out.includes('cloud models without a price'), { timeoutMs: 60_000, intervalMs: 50 });
      const line = out.split('\n').find((l) => l.includes('cloud models without a price'))!;
      expect((JSON.parse(line) as { models: string[] }).models).toEqual(['c/unpriced']);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
