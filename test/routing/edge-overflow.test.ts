/**
 * Edge overflow under a deep queue (issue 23's scenario): with max_num_seqs 1 and ~80 tagged (edge-only) requests of
 * 128 tokens queued on the edge, the predicted queue wait sees the whole queue, so every untagged request overflows
 * to the cloud, and no tagged request ever reaches the cloud.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { testModel } from '../../edge-runtime/testing/test-models.js';
import type { EdgeUpstream } from '../../gateway/upstreams/edge/edge-upstream.js';

const THRESHOLD_MS = 100;
let cloud: FakeOpenAI;
let gw: TestGateway;
let edge: EdgeUpstream;

beforeAll(async () => {
  cloud = await startFakeOpenAI({ reply: 'from the cloud' });
  const dir = await testModel('tiny-llama', 1);
  const file = join(mkdtempSync(join(tmpdir(), 'sy-overflow-')), 'policy.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'tags:',
      '  pii: { route: edge-only }',
      'rules:',
      '  - id: edge-first',
      '    route: [edge, ov-cloud]',
      `    overflow: { queue_wait_ms: ${THRESHOLD_MS}, to: [ov-cloud] }`,
      '',
    ].join('\n'),
  );
  gw = await startTestGateway({
    cache: { backend: 'off' },
    policies: { file },
    upstreams: [{ id: 'ov-cloud', url: cloud.url, zone: 'cloud', models: ['switchyard-tiny'] }],
    edge: { enabled: true, models: [{ id: 'switchyard-tiny', path: dir, variant: 'fp32' }], kv_budget_mb: 16, max_num_seqs: 1 },
  });
  edge = gw.upstreams.find((u) => u.id === 'edge') as EdgeUpstream;
  await waitUntil(() => edge.ready(), { timeoutMs: 60_000 });
}, 120_000);
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
});

const post = (body: object, headers: Record<string, string>, signal?: AbortSignal) =>
  fetch(`${gw.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });

describe('edge overflow under a deep queue', () => {
  it('sends every untagged request to the cloud while the predicted wait exceeds the threshold; tagged never', async () => {
    // Warm the step-time average with one request, then fill the single seat and its queue with tagged requests.
    await post({ model: 'switchyard-tiny', max_tokens: 16, messages: [{ role: 'user', content: 'warm up' }] }, { 'x-switchyard-tags': 'pii' }).then(
      (r) => r.text(),
    );
    const flood = new AbortController();
    const tagged = Array.from({ length: 80 }, (_, i) =>
      post(
        { model: 'switchyard-tiny', max_tokens: 128, stream: true, messages: [{ role: 'user', content: `private ${i}` }] },
        { 'x-switchyard-tags': 'pii' },
        flood.signal,
      )
        .then(async (r) => {
          await r.text().catch(() => undefined);
          return r.headers.get('x-switchyard-route');
        })
        .catch(() => 'aborted before headers'),
    );
    await waitUntil(() => (edge.engineStats()?.waiting ?? 0) >= 20, { timeoutMs: 30_000, message: 'edge queue never got deep' });

    // One untagged request per fresh stats snapshot (the engine reports every 250 ms), so the samples spread over the
    // backlog, including the moments when the running request is near its end.
    const routes: Array<{ predicted: number; route: string | null; waiting: number }> = [];
    let seen = edge.engineStats();
    for (let i = 0; i < 16; i++) {
      await waitUntil(() => edge.engineStats() !== seen, { timeoutMs: 5_000 });
      seen = edge.engineStats();
      const waiting = seen?.waiting ?? 0;
      if (waiting < 20) break; // below this the tiny model (which often stops early) drains the queue in milliseconds
      const before = edge.load().queueWaitMs ?? 0;
      // The cloud answers in milliseconds; an untagged request that went to the edge waits behind the whole queue.
      const route = await post(
        { model: 'switchyard-tiny', max_tokens: 16, stream: true, messages: [{ role: 'user', content: `public ${i}` }] },
        {},
        AbortSignal.timeout(2_000),
      )
        .then(async (r) => {
          await r.text();
          return r.headers.get('x-switchyard-route');
        })
        .catch(() => 'no answer within 2 s: queued on the edge');
      routes.push({ predicted: Math.min(before, edge.load().queueWaitMs ?? 0), route, waiting });
      // A tagged request in the same deep queue stays on the edge (it is not awaited: it waits its turn).
      tagged.push(
        post(
          { model: 'switchyard-tiny', max_tokens: 4, messages: [{ role: 'user', content: `secret ${i}` }] },
          { 'x-switchyard-tags': 'pii' },
          flood.signal,
        )
          .then((t) => t.headers.get('x-switchyard-route'))
          .catch(() => 'aborted before headers'),
      );
    }
    expect(routes.length, JSON.stringify(routes)).toBeGreaterThanOrEqual(4);
    // A tagged probe sent now waits behind the whole queue: the prediction at that moment must be of that order.
    const predictedForProbe = edge.load().queueWaitMs ?? 0;
    const probeSent = Date.now();
    const probe = await post(
      { model: 'switchyard-tiny', max_tokens: 4, stream: true, messages: [{ role: 'user', content: 'secret probe' }] },
      { 'x-switchyard-tags': 'pii' },
    );
    const reader = probe.body!.getReader();
    const first = await reader.read();
    const probeTtft = Date.now() - probeSent;
    expect(new TextDecoder().decode(first.value)).toContain('data:');
    await reader.cancel();
    const seenNumbers = JSON.stringify({ routes, predictedForProbe, probeTtft });
    // The defect was a gross underestimate (8-97 ms against 1.4-3.8 s); overestimates only overflow earlier.
    // (Only meaningful while a queue remains: on a fast machine it may have drained by now, and the probe starts at once.)
    if (probeTtft > 300) expect(predictedForProbe, seenNumbers).toBeGreaterThan(probeTtft / 3);

    // The queue stayed deep throughout, so the prediction must say so, and every untagged request must overflow.
    for (const r of routes) {
      expect(r.predicted, seenNumbers).toBeGreaterThan(THRESHOLD_MS);
      expect(r.route, seenNumbers).toBe('ov-cloud');
    }
    flood.abort();
    const taggedRoutes = await Promise.all(tagged);
    // Tagged requests answered before the abort went to the edge; none anywhere else.
    expect(taggedRoutes.filter((r) => r !== 'aborted before headers').every((r) => r === 'edge')).toBe(true);
    expect(taggedRoutes.filter((r) => r === 'edge').length).toBeGreaterThan(0);
    const sent = JSON.stringify(cloud.requests.map((q) => q.body));
    expect(sent).toContain('public 0');
    expect(sent).not.toMatch(/private|secret|warm up/);
    await waitUntil(() => (edge.engineStats()?.waiting ?? 1) === 0 && (edge.engineStats()?.running ?? 1) === 0, { timeoutMs: 30_000 });
  }, 120_000);
});
