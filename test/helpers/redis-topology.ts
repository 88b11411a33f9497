/**
 * Real Redis Cluster (3 masters + 3 replicas) and Sentinel (master + replica + 3 sentinels) on loopback for tests,
 * from Debian's redis-server 7.0; every process is killed (SIGKILL) by stop().
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

export interface RedisNode {
  port: number;
  url: string;
  child: ChildProcess;
  /** SIGKILL: a crash. Resolves when the process is gone. */
  kill(): Promise<void>;
}

export async function cli(port: number, ...args: string[]): Promise<string> {
  const r = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5_000 });
  return r.stdout;
}

async function answers(port: number): Promise<boolean> {
  return cli(port, 'PING').then(
    (o) => o.trim() === 'PONG',
    () => false,
  );
}

// If the test process ends without stop() (a timeout, a crash), its Redis processes must not outlive it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

function launch(port: number, args: string[], dir: string): RedisNode {
  const child = spawn('redis-server', args, { stdio: 'ignore', cwd: dir });
  child.on('error', () => undefined);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    child,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const base = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];

export interface TestRedisCluster {
  nodes: RedisNode[];
  urls: string[];
  /** The node serving `key`'s slot as master right now. */
  masterFor(key: string): Promise<RedisNode>;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const nodes = ports.map((p) =>
    launch(p, [...base(p), '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${p}.conf`, '--cluster-node-timeout', '2000'], dir),
  );
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) await waitUntil(() => answers(n.port), { timeoutMs: 20_000, intervalMs: 50 });
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 30_000,
    });
    // Every node must agree the cluster is whole, and each master must have its replica attached.
    await waitUntil(
      async () => {
        const infos = await Promise.all(ports.map((p) => cli(p, 'CLUSTER', 'INFO').catch(() => '')));
        if (!infos.every((i) => i.includes('cluster_state:ok'))) return false;
        const roles = await Promise.all(ports.map((p) => cli(p, 'INFO', 'replication').catch(() => '')));
        // A replica that has not finished its first sync refuses to fail over, so wait for all three links to be up.
        return roles.filter((r) => r.includes('role:slave') && r.includes('master_link_status:up')).length === 3;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'cluster never became ok' },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    async masterFor(key) {
      // Ask a node that is alive (a test may have killed any of them).
      const live = nodes.find((n) => n.child.exitCode === null && n.child.signalCode === null)!;
      const slot = Number((await cli(live.port, 'CLUSTER', 'KEYSLOT', key)).trim());
      const lines = (await cli(live.port, 'CLUSTER', 'NODES')).trim().split('\n');
      for (const line of lines) {
        const f = line.split(' ');
        if (!f[2]?.includes('master') || f[2].includes('fail')) continue;
        const port = Number(f[1]!.split(':')[1]!.split('@')[0]);
        for (const range of f.slice(8)) {
          const [a, b] = range.split('-').map(Number);
          if (a !== undefined && slot >= a && slot <= (b ?? a)) return nodes.find((n) => n.port === port)!;
        }
      }
      throw new Error(`no master for slot ${slot}`);
    },
    stop,
  };
}

export interface TestRedisSentinel {
  master: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  sentinelUrls: string[];
  name: string;
  /** The port the sentinels currently name as master. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(name = 'symaster'): Promise<TestRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-redis-sentinel-'));
  const mp = await freePort();
  const rp = await freePort();
  const master = launch(mp, base(mp), dir);
  const replica = launch(rp, [...base(rp), '--replicaof', '127.0.0.1', String(mp)], dir);
  const sentinels: RedisNode[] = [];
  const stop = async () => {
    await Promise.all([master, replica, ...sentinels].map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(() => answers(mp), { timeoutMs: 20_000, intervalMs: 50 });
    await waitUntil(async () => (await cli(rp, 'INFO', 'replication').catch(() => '')).includes('master_link_status:up'), {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    for (let i = 0; i < 3; i++) {
      const sp = await freePort();
      const conf = join(dir, `sentinel-${sp}.conf`);
      // Sentinel rewrites its config file, so each gets its own writable one.
      writeFileSync(
        conf,
        [
          `port ${sp}`,
          'bind 127.0.0.1',
          `sentinel monitor ${name} 127.0.0.1 ${mp} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(launch(sp, [conf, '--sentinel'], dir));
    }
    // Sentinels know each other and the replica before a failover can be agreed.
    await waitUntil(
      async () => {
        const outs = await Promise.all(sentinels.map((s) => cli(s.port, 'SENTINEL', 'MASTER', name).catch(() => '')));
        return outs.every((o) => {
          const f = o.trim().split('\n');
          const get = (k: string) => f[f.indexOf(k) + 1];
          return get('num-other-sentinels') === '2' && get('num-slaves') === '1';
        });
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'sentinels never saw each other' },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    master,
    replica,
    sentinels,
    sentinelUrls: sentinels.map((s) => s.url),
    name,
    async masterPort() {
      for (const s of sentinels) {
        const o = await cli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => '');
        const port = Number(o.trim().split('\n')[1]);
        if (port) return port;
      }
      throw new Error('no sentinel answered');
    },
    stop,
  };
}
