/**
 * Client aborts on the edge: JSON and streamed requests whose clients leave while they run or wait in the engine's
 * queue are recorded as 499 at info level, and their engine work is cancelled (the queue empties at once instead of
 * generating every request's tokens for nobody).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { testModel } from '../../edge-runtime/testing/test-models.js';
import type { EdgeUpstream } from '../../gateway/upstreams/edge/edge-upstream.js';
import type { Logger, LogFn } from '../../gateway/core/logger.js';
import type { RequestContext } from '../../gateway/core/request-context.js';

const levels: string[] = [];
const done: RequestContext[] = [];
const at =
  (level: string): LogFn =>
  () =>
    void levels.push(level);
const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };

let gw: TestGateway;
let edge: EdgeUpstream;
beforeAll(async () => {
  const dir = await testModel('tiny-llama', 1);
  gw = await startTestGateway(
    {
      cache: { backend: 'off' },
      edge: { enabled: true, models: [{ id: 'tiny-edge', path: dir, variant: 'fp32' }], kv_budget_mb: 16, max_num_seqs: 1 },
    },
    { logger, onComplete: (ctx) => done.push(ctx) },
  );
  edge = gw.upstreams.find((u) => u.id === 'edge') as EdgeUpstream;
  await waitUntil(() => edge.ready(), { timeoutMs: 60_000 });
}, 120_000);
afterAll(async () => {
  await gw?.shutdown();
});

describe('client aborts on the edge', () => {
  it('cancels running and queued engine work of JSON and streamed requests and records 499', async () => {
    const controller = new AbortController();
    const sent = Array.from({ length: 20 }, (_, i) =>
      fetch(`${gw.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-edge', max_tokens: 256, stream: i % 2 === 1, messages: [{ role: 'user', content: `long answer ${i}` }] }),
        signal: controller.signal,
      })
        .then((r) => r.text())
        .catch(() => 'aborted'),
    );
    await waitUntil(() => (edge.engineStats()?.waiting ?? 0) >= 10, { timeoutMs: 20_000, message: 'the edge queue never filled' });
    const generatedAtAbort = edge.engineStats()?.totalGenerated ?? 0;
    controller.abort();
    await Promise.all(sent);
    // Queued and running work is dropped: the engine goes idle long before 20 x 256 tokens could be generated.
    await waitUntil(() => edge.engineStats()?.waiting === 0 && edge.engineStats()?.running === 0, { timeoutMs: 5_000 });
    expect((edge.engineStats()?.totalGenerated ?? 0) - generatedAtAbort).toBeLessThan(2 * 256);
    await waitUntil(() => done.length >= 20, { timeoutMs: 5_000 });
    const aborted = done.filter((c) => c.status === 499 && c.errorCode === 'client_closed_request');
    // A request may have finished on its own before the abort (the tiny model can stop early); none failed otherwise.
    expect(done.every((c) => c.status === 499 || c.status === 200)).toBe(true);
    expect(aborted.length).toBeGreaterThanOrEqual(10);
    expect(levels.filter((l) => l === 'error' || l === 'warn')).toEqual([]);
  }, 60_000);
});
