/**
 * `WAIT` on counter writes. Redis replicates asynchronously: a master killed right after answering a write can take
 * the write with it, and the promoted replica then under-counts (a limit or budget would admit more than it should).
 * Waiting for one replica's acknowledgement closes that window for every write the gateway counted as done.
 */
import type { RedisTarget } from './redis-connection.js';

/** Cluster and Sentinel have replicas to wait for; a single node has none (WAIT 1 would only ever time out). */
export function replicaAcksFor(target: RedisTarget): number {
  return target.nodes !== undefined || target.sentinels !== undefined ? 1 : 0;
}

/**
 * WAIT's own timeout: a replica on a LAN acknowledges within a millisecond or so (~0.1 ms on loopback), so 10 ms (or
 * half the command timeout, if that is shorter) is plenty. It must stay short because WAIT blocks its connection:
 * commands sent behind it wait too, and a master without a replica makes every WAIT run to its timeout.
 */
export const MAX_WAIT_MS = 10;
export function waitTimeoutMs(commandTimeoutMs: number, wanted = MAX_WAIT_MS): number {
  // Never 0: `WAIT n 0` blocks the connection until enough replicas answer, i.e. possibly forever.
  return Math.max(1, Math.min(wanted, Math.floor(commandTimeoutMs / 2)));
}

/** After a WAIT that got no ack, writes skip WAIT this long before one asks again (a failover left no replica). */
export const NO_REPLICA_RECHECK_MS = 1_000;
