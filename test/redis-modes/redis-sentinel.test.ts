/**
 * Two gateway replicas on a real Sentinel set (master + replica + 3 sentinels): limits, budgets, cache and records
 * shared exactly; the master SIGKILLed under load: no failed request, limits enforced again after the promotion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startRedisSentinel, type TestRedisSentinel } from '../helpers/redis-topology.js';
import type { TestGateway } from '../helpers/gateway.js';
import { runFailover, sharedStateChecks } from './shared-state-checks.js';
import { startReplicas } from './two-replicas.js';

let cloud: FakeOpenAI;
let set: TestRedisSentinel;
let gws: TestGateway[] = [];

beforeAll(async () => {
  cloud = await startFakeOpenAI({ reply: 'a short answer of seven words here' });
  set = await startRedisSentinel();
  gws = await startReplicas({ sentinels: set.sentinelUrls, name: set.name }, cloud.url);
}, 60_000);
afterAll(async () => {
  await Promise.all(gws.map((g) => g.shutdown()));
  await set?.stop();
  await cloud?.close();
});

describe('Redis Sentinel, two gateway replicas', () => {
  sharedStateChecks(
    () => gws,
    () => cloud,
    () => {
      const r = new Redis({ sentinels: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: set.name });
      return { xlen: (k) => r.xlen(k), close: async () => r.disconnect() };
    },
  );

  it('the master killed under load: no failed request, the limit enforced again after failover', async () => {
    const r = await runFailover(gws, async () => {
      await set.master.kill();
      // Failed over: the sentinels name the replica as master.
      return async () => (await set.masterPort().catch(() => set.master.port)) === set.replica.port;
    });
    console.log(`[redis-sentinel failover] ${JSON.stringify(r)}`);
    expect(r.failed).toBe(0);
    expect(r.enforcedAfter).toBe(true);
    expect(r.countedBeforePlusAfter).toBeLessThanOrEqual(r.limit + 1);
    // Budgets hold across the failover too: spend written before the kill is still counted after it (WAIT 1).
    expect(r.budgetReference).toBeGreaterThanOrEqual(2);
    expect(r.budgetBeforePlusAfter).toBeLessThanOrEqual(r.budgetReference + 1);
  }, 120_000);
});
