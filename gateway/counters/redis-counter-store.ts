/** CounterStore on Redis, shared by gateway replicas: one Lua script checks every limit, then increments all or none. */
import type { RedisClient, RedisTarget } from '../redis/redis-connection.js';
import { createRedisClient, isClusterTarget } from '../redis/redis-connection.js';
import { NO_REPLICA_RECHECK_MS, replicaAcksFor, waitTimeoutMs } from '../redis/replica-wait.js';
import type { CounterReservation, CounterSettlement, CounterStore, HoldOptions, ReserveResult } from './counter-store.js';

// KEYS: counters. ARGV: n, then per key: amount, limit, expiresAt(ms). Returns {1, v1..vn} or {0, index, current}.
const RESERVE = `
local n = tonumber(ARGV[1])
local cur = {}
for i = 1, n do
  local v = tonumber(redis.call('GET', KEYS[i]) or '0')
  cur[i] = v
  if v + tonumber(ARGV[2 + (i - 1) * 3]) > tonumber(ARGV[3 + (i - 1) * 3]) then
    return {0, i - 1, v}
  end
end
local out = {1}
for i = 1, n do
  local v = redis.call('INCRBY', KEYS[i], ARGV[2 + (i - 1) * 3])
  redis.call('PEXPIREAT', KEYS[i], ARGV[4 + (i - 1) * 3])
  out[#out + 1] = v
end
return out
`;

const ADJUST = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return v
`;

// Held reservations. Per id: a hash `hold:<id>` (counter key -> amount), a member of the sorted set `holds` scored by
// its release time, and after settling a marker `done:<id>` ('settled' | 'expired'). Every call first releases holds
// past their time (refunds them), so a gateway that died mid-request cannot leave spend reserved for ever. Counter
// keys of a hold are stored fully prefixed (this touches keys not passed in KEYS: on Cluster they share the script's
// slot through the hash tag, which Redis 7 allows).
const RELEASE_EXPIRED = `
local function release_expired(prefix, index)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ids = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 64)
  for _, hid in ipairs(ids) do
    local hk = prefix .. 'hold:' .. hid
    local f = redis.call('HGETALL', hk)
    local remember = tonumber(redis.call('HGET', hk, '__remember') or '900000')
    for j = 1, #f, 2 do
      if f[j] ~= '__remember' and redis.call('EXISTS', f[j]) == 1 then redis.call('DECRBY', f[j], f[j + 1]) end
    end
    redis.call('DEL', hk)
    redis.call('ZREM', index, hid)
    redis.call('SET', prefix .. 'done:' .. hid, 'expired', 'PX', math.max(remember, 1))
  end
end
`;

// KEYS: hold, done, index, counters... ARGV: prefix, id, holdUntil, rememberMs, n, then per counter: amount, limit,
// expiresAt. Returns {1, v...} (reserved), {2} (already held or settled: a no-op) or {0, index, current}.
const RESERVE_HELD = `${RELEASE_EXPIRED}
release_expired(ARGV[1], KEYS[3])
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {2} end
local n = tonumber(ARGV[5])
for i = 1, n do
  local v = tonumber(redis.call('GET', KEYS[3 + i]) or '0')
  if v + tonumber(ARGV[6 + (i - 1) * 3]) > tonumber(ARGV[7 + (i - 1) * 3]) then return {0, i - 1, v} end
end
local out = {1}
for i = 1, n do
  local amount = ARGV[6 + (i - 1) * 3]
  out[#out + 1] = redis.call('INCRBY', KEYS[3 + i], amount)
  redis.call('PEXPIREAT', KEYS[3 + i], ARGV[8 + (i - 1) * 3])
  redis.call('HINCRBY', KEYS[1], KEYS[3 + i], amount)
end
redis.call('HSET', KEYS[1], '__remember', ARGV[4])
-- The hash outlives its release time by a day at most, so nothing is kept for ever even if no call ever sweeps.
redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[3]) + 86400000)
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return out
`;

// KEYS: hold, done, index, counters... ARGV: prefix, id, rememberMs, n, then per counter: actual amount, expiresAt.
const SETTLE = `${RELEASE_EXPIRED}
release_expired(ARGV[1], KEYS[3])
if redis.call('GET', KEYS[2]) == 'settled' then return 0 end
local n = tonumber(ARGV[4])
for i = 1, n do
  local held = tonumber(redis.call('HGET', KEYS[1], KEYS[3 + i]) or '0')
  local delta = tonumber(ARGV[5 + (i - 1) * 2]) - held
  -- A refund does not recreate a counter whose window already ended.
  if delta > 0 or (delta < 0 and redis.call('EXISTS', KEYS[3 + i]) == 1) then
    redis.call('INCRBY', KEYS[3 + i], delta)
    redis.call('PEXPIREAT', KEYS[3 + i], ARGV[6 + (i - 1) * 2])
  end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('SET', KEYS[2], 'settled', 'PX', ARGV[3])
return 1
`;

type WithCommands = RedisClient & {
  swReserve(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  swAdjust(key: string, delta: number, expiresAt: number): Promise<number>;
  swReserveHeld(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  swSettle(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

export interface RedisCounterOptions {
  /** A single node's URL (shorthand for `target: { url }`). */
  url?: string;
  /** Where Redis is: `{ url }` (single node), `{ nodes }` (Cluster) or `{ sentinels, name }`. */
  target?: RedisTarget;
  keyPrefix?: string;
  /** Per-command timeout; a slow Redis fails the call rather than stalling requests. */
  commandTimeoutMs?: number;
  /**
   * Replicas each counter write waits for (`WAIT n`, up to 10 ms) before its call returns. Default: 1 on Cluster and
   * Sentinel (a master killed after answering must not take the write with it), 0 on a single node (nothing to wait for).
   */
  replicaAcks?: number;
  /** WAIT's own timeout (default: 10 ms, or half the command timeout if shorter); kept below the command timeout. */
  replicaWaitMs?: number;
}

export class RedisCounterStore implements CounterStore {
  private readonly redis: WithCommands;
  private readonly prefix: string;
  private readonly acks: number;
  private readonly waitMs: number;
  /** Writes a replica acknowledged (WAIT), and writes whose acknowledgement did not arrive in time (on the master only). */
  replicatedWrites = 0;
  unreplicatedWrites = 0;
  /** Until then writes skip WAIT: the last one found no replica to acknowledge (e.g. a promoted master alone). */
  private noReplicaUntil = 0;

  constructor(opts: RedisCounterOptions) {
    // On Cluster every counter key carries one hash tag, so each script's keys (a key's and its tenant's limits, several
    // budgets, the holds index) share a slot and stay atomic. The cost: counters live on one master (a script is ~50 µs;
    // far below one master's capacity). A single node keeps the untagged keys it always had.
    const target: RedisTarget = opts.target ?? { url: opts.url };
    const prefix = opts.keyPrefix ?? 'sy:';
    this.prefix = isClusterTarget(target) ? `${prefix}{counters}:` : prefix;
    this.acks = opts.replicaAcks ?? replicaAcksFor(target);
    this.waitMs = waitTimeoutMs(opts.commandTimeoutMs ?? 1000, opts.replicaWaitMs);
    const redis = createRedisClient(target, {
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
    });
    redis.defineCommand('swReserve', { lua: RESERVE });
    redis.defineCommand('swAdjust', { lua: ADJUST, numberOfKeys: 1 });
    redis.defineCommand('swReserveHeld', { lua: RESERVE_HELD });
    redis.defineCommand('swSettle', { lua: SETTLE });
    this.redis = redis as WithCommands;
  }

  async reserve(items: readonly CounterReservation[]): Promise<ReserveResult> {
    const keys = items.map((i) => this.prefix + i.key);
    const args = [items.length, ...items.flatMap((i) => [Math.round(i.amount), Math.round(i.limit), Math.round(i.expiresAt)])];
    const r = await this.write<number[]>('swReserve', keys.length, ...keys, ...args);
    if (r[0] === 1) return { ok: true, values: r.slice(1).map(Number) };
    return { ok: false, index: Number(r[1]), current: Number(r[2]) };
  }

  /**
   * Runs one counter script; with `replicaAcks` > 0, `WAIT n` follows it in the same pipeline (same connection, so it
   * waits for exactly this write; on Cluster the pipeline goes to the node owning the counters' slot). The script's
   * answer stands either way: the master counted the write. Without the acks in time the write is counted as not
   * durable and WAIT is skipped for NO_REPLICA_RECHECK_MS: a master promoted by a failover has no replica until the old
   * one returns, and waiting out the timeout on every write would only add latency (there is nothing to lose to).
   * WAIT blocks the connection it runs on, so counter writes are serialised behind one replica round trip each.
   */
  private async write<T>(command: 'swReserve' | 'swReserveHeld' | 'swSettle' | 'swAdjust', ...args: Array<string | number>): Promise<T> {
    // Not connected (failing over): the pipeline would wait in the offline queue, and a burst of queued WAITs would then
    // block the new master's connection one timeout after another. Those writes go without WAIT.
    const ready = this.redis.status === 'ready';
    if (this.acks === 0 || !ready || Date.now() < this.noReplicaUntil)
      return (this.redis[command] as (...a: Array<string | number>) => Promise<T>)(...args);
    const p = this.redis.pipeline() as unknown as Record<typeof command, (...a: Array<string | number>) => unknown> & {
      wait(n: number, ms: number): unknown;
      exec(): Promise<Array<[Error | null, unknown]> | null>;
    };
    p[command](...args);
    p.wait(this.acks, this.waitMs);
    const out = await p.exec();
    const [scriptErr, result] = out?.[0] ?? [new Error('empty pipeline reply'), undefined];
    if (scriptErr) throw scriptErr;
    const [waitErr, acked] = out?.[1] ?? [null, 0];
    if (waitErr || Number(acked) < this.acks) {
      this.unreplicatedWrites++;
      this.noReplicaUntil = Date.now() + NO_REPLICA_RECHECK_MS;
    } else this.replicatedWrites++;
    return result as T;
  }

  private holdKeys(id: string): string[] {
    return [`${this.prefix}hold:${id}`, `${this.prefix}done:${id}`, `${this.prefix}holds`];
  }

  async reserveHeld(id: string, items: readonly CounterReservation[], opts: HoldOptions): Promise<ReserveResult> {
    const keys = [...this.holdKeys(id), ...items.map((i) => this.prefix + i.key)];
    const remember = Math.max(1, Math.round(opts.rememberUntil - opts.holdUntil));
    const args = [
      this.prefix,
      id,
      Math.round(opts.holdUntil),
      remember,
      items.length,
      ...items.flatMap((i) => [Math.round(i.amount), Math.round(i.limit), Math.round(i.expiresAt)]),
    ];
    const r = await this.write<number[]>('swReserveHeld', keys.length, ...keys, ...args);
    if (r[0] === 1) return { ok: true, values: r.slice(1).map(Number) };
    if (r[0] === 2) return { ok: true, values: await this.get(items.map((i) => i.key)) };
    return { ok: false, index: Number(r[1]), current: Number(r[2]) };
  }

  async settle(id: string, actual: readonly CounterSettlement[], opts: HoldOptions): Promise<void> {
    const keys = [...this.holdKeys(id), ...actual.map((a) => this.prefix + a.key)];
    const remember = Math.max(1, Math.round(opts.rememberUntil - Date.now()));
    const args = [this.prefix, id, remember, actual.length, ...actual.flatMap((a) => [Math.round(a.amount), Math.round(a.expiresAt)])];
    await this.write<number>('swSettle', keys.length, ...keys, ...args);
  }

  async adjust(key: string, delta: number, expiresAt: number): Promise<void> {
    await this.write<number>('swAdjust', this.prefix + key, Math.round(delta), Math.round(expiresAt));
  }

  async get(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const vals = await this.redis.mget(...keys.map((k) => this.prefix + k));
    return vals.map((v) => (v == null ? 0 : Number(v)));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
