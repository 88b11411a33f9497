/**
 * Budgets and caps are checked at each fallback's own price: when the (free) edge fails, a fallback to a pricier cloud
 * destination that would break the budget is not taken, and a rule with `cost.no_paid_fallback` never falls back to a
 * paid destination at all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';

const TIGHT = 'sk-sy-tight-budget-key-0123456789ab';
const ROOMY = 'sk-sy-roomy-budget-key-0123456789ab';
let edge: FakeOpenAI;
let cloud: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  edge = await startFakeOpenAI({ reply: 'edge answer' });
  cloud = await startFakeOpenAI({ reply: 'cloud answer' });
  const file = join(mkdtempSync(join(tmpdir(), 'sy-fallback-price-')), 'policy.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'budgets:',
      // ~120 tokens at $100/M = $0.012 in the cloud, $0 on the edge.
      '  - { id: tight, scope: tenant, match: "tight", day_usd: 0.005 }',
      '  - { id: roomy, scope: tenant, match: "roomy", day_usd: 10 }',
      'rules:',
      '  - id: frugal',
      '    match: { headers: { x-frugal: "1" } }',
      '    route: [edge, cloud]',
      '    cost: { no_paid_fallback: true }',
      '  - id: all',
      '    route: [edge, cloud]',
      '',
    ].join('\n'),
  );
  gw = await startTestGateway({
    policies: { file },
    prices: { models: { m: { input_per_m: 100, output_per_m: 100 } }, edge_per_m: 0 },
    resilience: { retries: 0 },
    keys: [
      { id: 'tight', sha256: await sha256Hex(TIGHT), tenant: 'tight' },
      { id: 'roomy', sha256: await sha256Hex(ROOMY), tenant: 'roomy' },
    ],
    upstreams: [
      { id: 'edge', url: edge.url, zone: 'edge', models: ['m'] },
      { id: 'cloud', url: cloud.url, models: ['m'] },
    ],
  });
}, 60_000);
afterAll(async () => {
  await gw?.shutdown();
  await edge?.close();
  await cloud?.close();
});

async function ask(key: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string | null }> {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
  try {
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }], max_tokens: 100 }, { headers });
    return { status: 200, text: r.choices[0]!.message.content };
  } catch (e) {
    if (e instanceof APIError) return { status: e.status ?? 0, text: null };
    throw e;
  }
}

describe('fallbacks are priced', () => {
  it('falls back to the cloud when the budget allows it (control)', async () => {
    edge.setFault({ status: 503, times: 1 });
    expect(await ask(ROOMY)).toEqual({ status: 200, text: 'cloud answer' });
  });

  it('does not fall back to a destination whose price would break the budget', async () => {
    cloud.reset();
    expect(await ask(TIGHT)).toEqual({ status: 200, text: 'edge answer' }); // the free edge is within budget
    edge.setFault({ status: 503, times: 1 });
    const r = await ask(TIGHT);
    expect(r.status).toBeGreaterThanOrEqual(500); // the edge's own failure, not a paid answer over budget
    expect(cloud.requests.length).toBe(0);
  });

  it('no_paid_fallback keeps a failed request off paid destinations even with budget left', async () => {
    cloud.reset();
    edge.setFault({ status: 503, times: 1 });
    const r = await ask(ROOMY, { 'x-frugal': '1' });
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(cloud.requests.length).toBe(0);
  });
});
