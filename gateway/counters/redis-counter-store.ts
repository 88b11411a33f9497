/** CounterStore on Redis, shared by gateway replicas: one Lua script checks every limit, then increments all or none. */
import { Redis } from 'ioredis';
import type { CounterReservation, CounterStore, ReserveResult } from './counter-store.js';

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

type WithCommands = Redis & {
  swReserve(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  swAdjust(key: string, delta: number, expiresAt: number): Promise<number>;
};

export interface RedisCounterOptions {
  url: string;
  keyPrefix?: string;
  /** Per-command timeout; a slow Redis fails the call rather than stalling requests. */
  commandTimeoutMs?: number;
}

export class RedisCounterStore implements CounterStore {
  private readonly redis: WithCommands;
  private readonly prefix: string;

  constructor(opts: RedisCounterOptions) {
    this.prefix = opts.keyPrefix ?? 'sy:';
    const redis = new Redis(opts.url, {
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      lazyConnect: false,
    });
    redis.on('error', () => undefined); // surfaced per command; the client reconnects by itself
    redis.defineCommand('swReserve', { lua: RESERVE });
    redis.defineCommand('swAdjust', { lua: ADJUST, numberOfKeys: 1 });
    this.redis = redis as WithCommands;
  }

  async reserve(items: readonly CounterReservation[]): Promise<ReserveResult> {
    const keys = items.map((i) => this.prefix + i.key);
    const args = [items.length, ...items.flatMap((i) => [Math.round(i.amount), Math.round(i.limit), Math.round(i.expiresAt)])];
    const r = await this.redis.swReserve(keys.length, ...keys, ...args);
    if (r[0] === 1) return { ok: true, values: r.slice(1).map(Number) };
    return { ok: false, index: Number(r[1]), current: Number(r[2]) };
  }

  async adjust(key: string, delta: number, expiresAt: number): Promise<void> {
    await this.redis.swAdjust(this.prefix + key, Math.round(delta), Math.round(expiresAt));
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
