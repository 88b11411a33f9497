/** The edge-first cascade with the real edge runtime answering first and a fake cloud to escalate to, via the openai SDK. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { testModel } from '../../edge-runtime/testing/test-models.js';
import type { RequestContext } from '../../gateway/core/request-context.js';

let cloud: FakeOpenAI;
let gw: TestGateway;
let policyFile: string;
const done: RequestContext[] = [];

const policy = (threshold: number, check = 'logprob') => `version: 1
tags:
  pii: { route: edge-only }
rules:
  - id: cascade
    route: [edge, cloud]
    cascade: { check: ${check}, threshold: ${threshold}, escalate_to: [cloud] }
`;

async function usePolicy(text: string): Promise<void> {
  writeFileSync(policyFile, text);
  const want = `v1-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
  await waitUntil(async () => ((await (await fetch(`${gw.url}/admin/policies`)).json()) as { policy: { version: string } }).policy.version === want, {
    timeoutMs: 15_000,
    intervalMs: 25,
  });
}
let policyText = '';

beforeAll(async () => {
  cloud = await startFakeOpenAI({ reply: 'from the cloud' });
  const dir = mkdtempSync(join(tmpdir(), 'sy-cascade-'));
  policyFile = join(dir, 'policy.yaml');
  policyText = policy(-1e9);
  writeFileSync(policyFile, policyText);
  const model = await testModel('tiny-llama', 1);
  gw = await startTestGateway(
    {
      cache: { backend: 'off' },
      upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }],
      edge: { enabled: true, models: [{ id: 'm', path: model, variant: 'fp32' }], kv_budget_mb: 16 },
      policies: { file: policyFile, poll_ms: 50 },
    },
    { onComplete: (ctx) => done.push(ctx) },
  );
  await waitUntil(() => gw.upstreams.find((u) => u.id === 'edge')!.ready(), { timeoutMs: 60_000 });
});
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
});
beforeEach(() => cloud.reset());

const ask = (content: string, extra: Record<string, unknown> = {}) =>
  gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }], max_tokens: 8, temperature: 0, ...extra }).withResponse();

describe('edge-first cascade', () => {
  it('keeps the edge answer at or above the threshold, hiding the logprobs it asked for, streamed or not', async () => {
    policyText = policy(-1e9);
    await usePolicy(policyText);
    cloud.reset();
    const { data, response } = await ask('what is two plus two');
    expect(response.headers.get('x-switchyard-cascade')).toMatch(/^kept; score=-\d/);
    expect(response.headers.get('x-switchyard-route')).toBe('edge');
    expect(data.choices[0]!.logprobs).toBeNull();
    expect(cloud.served).toBe(0);
    const ctx = done.at(-1)!;
    expect(ctx.cascade).toBe('kept');
    expect(ctx.cascadeScore).toBeLessThan(0);
    // Streamed, the kept answer is the same text, replayed as chunks once scored.
    const stream = await gw.client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'what is two plus two' }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe(data.choices[0]!.message.content);
    expect(cloud.served).toBe(0);
  });

  it('escalates below the threshold, streaming the escalation answer', async () => {
    policyText = policy(0.5); // a mean log-probability is never above 0: always escalate
    await usePolicy(policyText);
    cloud.reset();
    const { data, response } = await ask('hard question');
    expect(response.headers.get('x-switchyard-cascade')).toMatch(/^escalated/);
    expect(data.choices[0]!.message.content).toBe('from the cloud');
    expect(cloud.served).toBe(1);
    const stream = await gw.client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'stream it' }],
      max_tokens: 8,
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('from the cloud');
  });

  it('never escalates private data beyond the edge: a pii request below the threshold keeps the edge answer', async () => {
    policyText = policy(0.5);
    await usePolicy(policyText);
    cloud.reset();
    const { response } = await ask('my email is jane.doe@example.com');
    expect(response.headers.get('x-switchyard-cascade')).toMatch(/^kept/);
    expect(response.headers.get('x-switchyard-route')).toBe('edge');
    expect(cloud.requests.some((r) => JSON.stringify(r.body).includes('jane.doe'))).toBe(false);
  });

  it('self_check asks the edge to judge its own answer and scores P(yes)', async () => {
    policyText = policy(1.01, 'self_check'); // a probability never reaches 1.01: escalate, after the check ran
    await usePolicy(policyText);
    cloud.reset();
    const { response } = await ask('is the sky blue');
    const h = response.headers.get('x-switchyard-cascade') ?? '';
    expect(h).toMatch(/^escalated; score=/);
    const score = Number(h.split('score=')[1]);
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
  });
});
