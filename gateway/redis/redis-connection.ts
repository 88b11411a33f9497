/**
 * Builds the Redis client every Redis user shares the shape of: a single node, a Cluster (ioredis Cluster, slots
 * followed and failovers retried by the client) or a Sentinel-managed master (ioredis asks the sentinels where it is).
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../auth/auth-config.js';

/** What the gateway talks to: both clients expose the same commands, scripts and pipelines. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Per-command timeout (ms); a slow or failing-over Redis fails the call rather than stalling requests. */
  commandTimeout: number;
  maxRetriesPerRequest: number;
  /** false: while disconnected, commands fail at once (the caller's fail-open rule applies) instead of queueing. */
  enableOfflineQueue: boolean;
}

/** The part of `redis:` that says where Redis is; `url` alone is the single-node form callers had before. */
export type RedisTarget = Pick<RedisConfig, 'url' | 'nodes' | 'sentinels' | 'name'>;

const retry = (times: number) => Math.min(50 * 2 ** times, 2_000);

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 6379 };
}

/** Password, username, database and TLS from a URL (the first node's or sentinel's, in the multi-node modes). */
function credentials(url: string): { username?: string; password?: string; db?: number; tls?: object } {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function isClusterTarget(target: RedisTarget): boolean {
  return target.nodes !== undefined;
}

export function createRedisClient(target: RedisTarget, opts: RedisClientOptions): RedisClient {
  const common = { commandTimeout: opts.commandTimeout, maxRetriesPerRequest: opts.maxRetriesPerRequest };
  let client: RedisClient;
  if (target.nodes) {
    const { db: _db, ...creds } = credentials(target.nodes[0]!);
    client = new Cluster(target.nodes.map(hostPort), {
      redisOptions: { ...common, ...creds },
      enableOfflineQueue: opts.enableOfflineQueue,
      clusterRetryStrategy: retry,
      // After a MOVED/CLUSTERDOWN during failover, retry soon: the replica is promoted within node-timeout + ~1 s.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      // A dead master's commands only time out (no MOVED reaches us), so re-read the slot map every second: this is what
      // moves the client to the promoted replica. ioredis 6 has no periodic refresh unless asked.
      slotsRefreshInterval: 1_000,
      slotsRefreshTimeout: 1_000,
    });
  } else if (target.sentinels) {
    const creds = credentials(target.sentinels[0]!);
    client = new Redis({
      sentinels: target.sentinels.map(hostPort),
      name: target.name!,
      ...common,
      ...creds,
      // Sentinels themselves rarely have a password; the master does (same as in the URL).
      sentinelRetryStrategy: retry,
      retryStrategy: retry,
      enableOfflineQueue: opts.enableOfflineQueue,
      // A promoted replica is found by asking the sentinels again on reconnect.
      failoverDetector: true,
    });
  } else {
    client = new Redis(target.url!, { ...common, enableOfflineQueue: opts.enableOfflineQueue, retryStrategy: retry });
  }
  client.on('error', () => undefined); // surfaced per command; the client reconnects by itself
  return client;
}
