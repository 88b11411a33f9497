/**
 * Counter writes wait for a replica (`WAIT 1`) on a real Redis Cluster: a write the gateway counts as done is on two
 * nodes, so a master killed right after answering cannot take it along. With no replica answering (stalled, or a
 * promoted master alone after a failover) writes still count on the master and WAIT is skipped for a while.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCounterStore } from '../../gateway/counters/redis-counter-store.js';
import { replicaAcksFor } from '../../gateway/redis/replica-wait.js';
import { cli, startRedisCluster, type RedisNode, type TestRedisCluster } from '../helpers/redis-topology.js';
import { waitUntil } from '../helpers/wait.js';

let cluster: TestRedisCluster;
const prefix = `w${Date.now().toString(36)}:`;
const item = (key: string) => ({ key, amount: 1, limit: 1_000_000, expiresAt: Date.now() + 600_000 });

/** The replica attached to `master`, from CLUSTER NODES (`<id> <addr> <flags> <master-id> ...`). */
async function replicaOf(master: RedisNode): Promise<RedisNode> {
  const lines = (await cli(master.port, 'CLUSTER', 'NODES'))
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  const masterId = lines.find((f) => f[2]?.includes('myself'))![0];
  const replica = lines.find((f) => f[3] === masterId && f[2]?.includes('slave'))!;
  const port = Number(replica[1]!.split(':')[1]!.split('@')[0]);
  return cluster.nodes.find((n) => n.port === port)!;
}

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('counter writes wait for a replica on Cluster', () => {
  it('a write returns once a replica holds it; a stalled replica costs one WAIT timeout, then writes skip WAIT until it is back', async () => {
    // WAIT's timeout raised from 10 ms: on a loaded 2-core CI box a replica's ack can take longer than that.
    const store = new RedisCounterStore({ target: { nodes: cluster.urls }, keyPrefix: prefix, commandTimeoutMs: 2000, replicaWaitMs: 500 });
    try {
      await store.get(['warm-up']); // connected: writes sent before that skip WAIT (they would sit in the offline queue)
      // A freshly created cluster's replicas may still be syncing: the first acknowledged write says they are attached.
      await waitUntil(
        async () => {
          await store.reserve([item('warm-up')]);
          return store.replicatedWrites > 0;
        },
        { timeoutMs: 30_000, intervalMs: 200, message: 'replicas attached' },
      );
      const before = { replicated: store.replicatedWrites, unreplicated: store.unreplicatedWrites };
      const r = await store.reserve([item('rpm:a')]);
      expect(r).toEqual({ ok: true, values: [1] });
      expect(store.replicatedWrites).toBe(before.replicated + 1);
      // The replica has the write as soon as the call returned (WAIT), without polling for replication.
      const master = await cluster.masterFor(`${prefix}{counters}:rpm:a`);
      const replica = await replicaOf(master);
      const direct = new Redis({ host: '127.0.0.1', port: replica.port, lazyConnect: true });
      try {
        await direct.connect();
        await direct.readonly(); // a replica answers reads of its master's slots only after READONLY
        expect(await direct.get(`${prefix}{counters}:rpm:a`)).toBe('1');
      } finally {
        direct.disconnect();
      }

      replica.child.kill('SIGSTOP');
      try {
        // WAIT runs to its timeout when no replica answers; the write still counts (the master has it) and the
        // limit is still enforced from it.
        expect(await store.reserve([item('rpm:a')])).toEqual({ ok: true, values: [2] });
        expect(store.unreplicatedWrites).toBe(before.unreplicated + 1);
        // Then writes skip WAIT for a while (a promoted master alone would otherwise pay the timeout on every write).
        expect(await store.reserve([{ ...item('rpm:a'), limit: 2 }])).toEqual({ ok: false, index: 0, current: 2 });
        expect(store.unreplicatedWrites).toBe(before.unreplicated + 1);
      } finally {
        replica.child.kill('SIGCONT');
      }
      const acked = store.replicatedWrites;
      await waitUntil(
        async () => {
          await store.reserve([item('rpm:c')]);
          return store.replicatedWrites > acked;
        },
        { timeoutMs: 20_000, intervalMs: 200, message: 'writes acknowledged by the replica again' },
      );
    } finally {
      await store.close();
    }
  }, 60_000);

  it('waits on Cluster and Sentinel only: a single node has no replica (WAIT 1 there would only time out)', () => {
    expect(replicaAcksFor({ url: 'redis://127.0.0.1:6379' })).toBe(0);
    expect(replicaAcksFor({ nodes: cluster.urls })).toBe(1);
    expect(replicaAcksFor({ sentinels: ['redis://127.0.0.1:26379'], name: 'm' })).toBe(1);
  });
});
