/**
 * Two gateway replicas on a real Redis Cluster (3 masters + 3 replicas): limits, budgets, cache and records shared
 * exactly; the master holding the counters' slot SIGKILLed under load: no failed request, limits enforced again after.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-topology.js';
import type { TestGateway } from '../helpers/gateway.js';
import { runFailover, sharedStateChecks } from './shared-state-checks.js';
import { startReplicas } from './two-replicas.js';

const execFileP = promisify(execFile);
let cloud: FakeOpenAI;
let cluster: TestRedisCluster;
let gws: TestGateway[] = [];

beforeAll(async () => {
  cloud = await startFakeOpenAI({ reply: 'a short answer of seven words here' });
  cluster = await startRedisCluster();
  gws = await startReplicas({ nodes: cluster.urls }, cloud.url);
}, 60_000);
afterAll(async () => {
  await Promise.all(gws.map((g) => g.shutdown()));
  await cluster?.stop();
  await cloud?.close();
});

describe('Redis Cluster, two gateway replicas', () => {
  sharedStateChecks(
    () => gws,
    () => cloud,
    () => {
      const c = new Cluster(cluster.urls.map((u) => ({ host: '127.0.0.1', port: Number(new URL(u).port) })));
      return { xlen: (k) => c.xlen(k), close: async () => c.disconnect() };
    },
  );

  it('`switchyard report --config` reads the records stream through the Cluster', async () => {
    const cfg = join(mkdtempSync(join(tmpdir(), 'sy-cluster-report-')), 'gw.yaml');
    const stream = gws[0]!.config.records.redis_stream;
    writeFileSync(cfg, `redis: { nodes: [${cluster.urls.join(', ')}] }\nrecords: { sink: redis, redis_stream: "${stream}" }\n`);
    const r = await execFileP(
      process.execPath,
      ['--import', 'tsx', 'gateway/cli/main.ts', 'report', '--config', cfg, '--since', '1h', '--format', 'json'],
      {
        timeout: 30_000,
      },
    );
    const report = JSON.parse(r.stdout) as { totals: { requests: number } };
    expect(report.totals.requests).toBeGreaterThanOrEqual(10);
  }, 40_000);

  it('a master killed under load: no failed request, the limit enforced again after failover', async () => {
    const prefix = gws[0]!.config.redis!.key_prefix;
    const victim = await cluster.masterFor(`${prefix}{counters}:x`);
    const r = await runFailover(gws, async () => {
      await victim.kill();
      // Failed over: a surviving node names a live master (the promoted replica) for the counters' slot.
      return async () => (await cluster.masterFor(`${prefix}{counters}:x`).catch(() => victim)) !== victim;
    });
    console.log(`[redis-cluster failover] ${JSON.stringify(r)}`);
    expect(r.failed).toBe(0);
    expect(r.enforcedAfter).toBe(true);
    expect(r.countedBeforePlusAfter).toBeLessThanOrEqual(r.limit + 1);
    // Budgets hold across the failover too: spend written before the kill is still counted after it (WAIT 1).
    expect(r.budgetReference).toBeGreaterThanOrEqual(2);
    expect(r.budgetBeforePlusAfter).toBeLessThanOrEqual(r.budgetReference + 1);
  }, 120_000);
});
