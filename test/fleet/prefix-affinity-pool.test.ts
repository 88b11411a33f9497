/**
 * A pool of three edge servers behind `balance: prefix_affinity`, through real HTTP: three fake OpenAI servers stand
 * in for `switchyard edge serve` instances (reporting their queue with the edge server's own gauge on /metrics), the
 * real gateway routes, and the real openai SDK is the client.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

const ids = ['edge-0', 'edge-1', 'edge-2'];
let servers: FakeOpenAI[] = [];
let gw: TestGateway;

const queue = (n: number) => `# TYPE switchyard_edge_queue_depth gauge\nswitchyard_edge_queue_depth{upstream="edge",model="m"} ${n}\n`;
const systemPrompt = (i: number) => `You are assistant number ${i}. ${'Follow the house style guide closely. '.repeat(30)}`;
const systemOf = (body: unknown) => ((body as { messages: Array<{ content: string }> }).messages[0]?.content ?? '').slice(0, 30);

beforeAll(async () => {
  servers = await Promise.all(ids.map((id) => startFakeOpenAI({ reply: id })));
  for (const s of servers) s.metricsText = queue(0);
  const file = join(mkdtempSync(join(tmpdir(), 'sy-fleet-')), 'policy.yaml');
  writeFileSync(file, `version: 1\nrules:\n  - id: fleet\n    route: [{ pool: [${ids.join(', ')}], balance: prefix_affinity }]\n`);
  gw = await startTestGateway({
    policies: { file },
    upstreams: servers.map((s, i) => ({
      id: ids[i],
      zone: 'edge',
      url: s.url,
      models: ['m'],
      metrics_url: `${s.url.replace(/\/v1$/, '')}/metrics`,
      metrics_poll_ms: 50,
    })),
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await Promise.all(servers.map((s) => s.close()));
});

describe('edge fleet: prefix_affinity pool', () => {
  it('8 system prompts x 5 users x 2 turns: each system prompt is served by one server, and the pool is shared', async () => {
    for (const s of servers) s.reset();
    for (let user = 0; user < 40; user++) {
      const sys = systemPrompt(user % 8);
      const first = await gw.client.chat.completions.create({
        model: 'm',
        messages: [
          { role: 'system', content: sys },
          { role: 'user', content: `user ${user}: first question` },
        ],
      });
      await gw.client.chat.completions.create({
        model: 'm',
        messages: [
          { role: 'system', content: sys },
          { role: 'user', content: `user ${user}: first question` },
          { role: 'assistant', content: first.choices[0]!.message.content ?? '' },
          { role: 'user', content: 'and a follow-up' },
        ],
      });
    }
    const serversOf = new Map<string, Set<number>>();
    servers.forEach((s, i) => {
      for (const r of s.requests.filter((x) => x.path === '/chat/completions'))
        serversOf.set(systemOf(r.body), (serversOf.get(systemOf(r.body)) ?? new Set()).add(i));
    });
    expect(serversOf.size).toBe(8);
    for (const [sys, on] of serversOf) expect(on.size, `${sys} served by one server`).toBe(1);
    const used = servers.filter((s) => s.requests.some((x) => x.path === '/chat/completions')).length;
    expect(used).toBeGreaterThanOrEqual(2);
  });

  it('a server reporting a long queue on /metrics sheds its prefixes to another, and gets them back when it drains', async () => {
    const body = (user: number) => ({
      model: 'm',
      messages: [
        { role: 'system' as const, content: systemPrompt(3) },
        { role: 'user' as const, content: `user ${user}` },
      ],
    });
    const home = (await gw.client.chat.completions.create(body(100))).choices[0]!.message.content!;
    const h = ids.indexOf(home);
    servers[h]!.metricsText = queue(20);
    const upstream = gw.upstreams.find((u) => u.id === home)!;
    await waitUntil(() => upstream.load().queueDepth === 20, { timeoutMs: 10_000, message: 'queue read from /metrics' });
    const spilled = (await gw.client.chat.completions.create(body(101))).choices[0]!.message.content!;
    expect(spilled).not.toBe(home);
    servers[h]!.metricsText = queue(0);
    await waitUntil(() => upstream.load().queueDepth === 0, { timeoutMs: 10_000, message: 'queue drained' });
    expect((await gw.client.chat.completions.create(body(102))).choices[0]!.message.content).toBe(home);
  });
});
