/**
 * Explain equals the real decision: for allowed, forbidden (model allow-list), rate-limited, budget-exhausted and
 * policy-refused requests, POST /v1/route/explain reports the outcome the real request then gets (destination, or
 * status and code) with a trace, and explaining consumes neither rate limits nor budgets.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';

const KEYS = {
  limited: 'sk-sy-explain-limited-0123456789',
  rpm: 'sk-sy-explain-rpm-0123456789abc',
  spender: 'sk-sy-explain-spender-012345678',
};
const EMAIL = 'write to jane.doe@example.org please';

let edge: FakeOpenAI;
let cloud: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  edge = await startFakeOpenAI({ reply: 'edge answer' });
  cloud = await startFakeOpenAI({ reply: 'cloud answer' });
  const file = join(mkdtempSync(join(tmpdir(), 'sy-explain-')), 'policy.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'tags:',
      '  pii: { route: edge-only }',
      'budgets:',
      '  - { id: poor, scope: tenant, match: "poor", day_usd: 0.002 }',
      'on_budget_exceeded: { action: reject }',
      'rules:',
      '  - id: cloud-only',
      '    match: { headers: { x-cloud-only: "1" } }',
      '    route: [cloud]',
      '  - id: all',
      '    route: [cloud, edge]',
      '',
    ].join('\n'),
  );
  gw = await startTestGateway({
    policies: { file },
    prices: { models: { m: { input_per_m: 100, output_per_m: 100 } } },
    keys: [
      { id: 'limited', sha256: await sha256Hex(KEYS.limited), models: ['m'] },
      { id: 'rpm', sha256: await sha256Hex(KEYS.rpm), rpm: 2 },
      { id: 'spender', sha256: await sha256Hex(KEYS.spender), tenant: 'poor' },
    ],
    upstreams: [
      { id: 'edge', url: edge.url, zone: 'edge', models: ['m', 'n'] },
      { id: 'cloud', url: cloud.url, models: ['m', 'n'] },
    ],
  });
}, 60_000);
afterAll(async () => {
  await gw?.shutdown();
  await edge?.close();
  await cloud?.close();
});

interface Outcome {
  status: number;
  code: string | null;
  destination: string | null;
}
interface Explained extends Outcome {
  outcome: 'route' | 'refuse';
  trace: string[];
}

async function send(path: 'chat/completions' | 'route/explain', key: string, body: object, headers: Record<string, string> = {}) {
  return fetch(`${gw.baseURL}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
  });
}

async function explain(key: string, body: object, headers: Record<string, string> = {}): Promise<Explained> {
  const r = await send('route/explain', key, body, headers);
  expect(r.status).toBe(200);
  const j = (await r.json()) as Explained & { code?: string };
  expect(j.trace.length).toBeGreaterThanOrEqual(2);
  return { ...j, code: j.code ?? null, destination: j.destination ?? null };
}

async function real(key: string, body: object, headers: Record<string, string> = {}): Promise<Outcome> {
  const r = await send('chat/completions', key, body, headers);
  const j = (await r.json()) as { error?: { code: string } };
  return { status: r.status, code: j.error?.code ?? null, destination: r.status === 200 ? r.headers.get('x-switchyard-route') : null };
}

/** Explains, then sends the same request for real, and checks the two agree. */
async function agree(key: string, body: object, headers: Record<string, string> = {}): Promise<Outcome> {
  const ex = await explain(key, body, headers);
  const got = await real(key, body, headers);
  expect({ status: ex.status, code: ex.code, destination: ex.destination }).toEqual(got);
  expect(ex.outcome).toBe(got.status === 200 ? 'route' : 'refuse');
  return got;
}

const ask = (model: string, content = 'hello', extra: object = {}) => ({ model, messages: [{ role: 'user', content }], ...extra });

describe('explain equals the real decision', () => {
  it('allowed and forbidden by the key allow-list', async () => {
    expect(await agree(KEYS.limited, ask('m'))).toEqual({ status: 200, code: null, destination: 'cloud' });
    expect(await agree(KEYS.limited, ask('n'))).toEqual({ status: 403, code: 'model_not_allowed', destination: null });
    const ex = await explain(KEYS.limited, ask('n'));
    expect(ex.trace.join('\n')).toMatch(/model allow-list: 'n' is not in key 'limited'/);
  });

  it('refused by policy: the trace explains it instead of an error', async () => {
    // The data class may reach no destination the rule offers: fail closed with 503 naming the class.
    expect(await agree(KEYS.limited, ask('m', EMAIL), { 'x-cloud-only': '1' })).toEqual({
      status: 503,
      code: 'no_allowed_zone',
      destination: null,
    });
    expect(await agree(KEYS.limited, ask('m', EMAIL))).toEqual({ status: 200, code: null, destination: 'edge' });
    const ex = await explain(KEYS.limited, ask('m', EMAIL), { 'x-cloud-only': '1' });
    expect(ex.trace.join('\n')).toMatch(/data class 'pii' may reach \(pii: device\); not sent to a wider zone/);
    expect(ex.trace.at(-1)).toBe('outcome: refuse with 503 no_allowed_zone');
  });

  it('rate limited: explaining consumes nothing, and says 429 once the real requests used the rpm', async () => {
    for (let i = 0; i < 5; i++) expect((await explain(KEYS.rpm, ask('m'))).outcome).toBe('route');
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await agree(KEYS.rpm, ask('m'))).status);
    expect(seen).toEqual([200, 200, 429, 429]);
    expect((await explain(KEYS.rpm, ask('m'))).code).toBe('rate_limit_exceeded');
  });

  it('budget exhausted: explaining reserves nothing, and says 429 once real spending used the budget', async () => {
    const body = ask('m', 'spend', { max_tokens: 1 });
    // Each request is estimated at ~$0.001 against a $0.002 day budget: if explaining reserved, the third would fail.
    for (let i = 0; i < 5; i++) expect((await explain(KEYS.spender, body)).outcome).toBe('route');
    const seen: number[] = [];
    for (let i = 0; i < 12 && !seen.includes(429); i++) seen.push((await agree(KEYS.spender, body)).status);
    expect(seen[0]).toBe(200);
    expect(seen.at(-1)).toBe(429);
    expect(await agree(KEYS.spender, body)).toEqual({ status: 429, code: 'budget_exceeded', destination: null });
  });

  it('invalid requests are explained as the same 400', async () => {
    expect(await agree(KEYS.limited, { messages: [{ role: 'user', content: 'no model' }] })).toEqual({
      status: 400,
      code: 'missing_required_parameter',
      destination: null,
    });
  });
});
