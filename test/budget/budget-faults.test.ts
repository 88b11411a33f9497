/**
 * Budgets under Redis faults, through two gateway replicas sharing one real redis-server with the default 50 ms
 * command timeout: a 200-request race while Redis is paused at intervals (CLIENT PAUSE), in fail_open (never a 5xx)
 * and fail_closed (only 503 budget_unavailable with Retry-After), the shared counter settling to the actual spend; and
 * Redis killed for 5 s under load, with no client error for a budgeted key in fail_open.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { RedisCounterStore } from '../../gateway/counters/redis-counter-store.js';
import { costOf } from '../../gateway/records/request-record.js';

const KEY = 'sk-sy-budget-fault-key-0123456789ab';
const PRICES = { models: { m: { input_per_m: 100, output_per_m: 100 } }, edge_per_m: 0 };
let cloud: FakeOpenAI;
let redis: TestRedis;
let policyFile: string;

beforeAll(async () => {
  cloud = await startFakeOpenAI({ reply: 'a short answer of seven words here' });
  redis = await startRedis();
  policyFile = join(mkdtempSync(join(tmpdir(), 'sy-budget-faults-')), 'policy.yaml');
  writeFileSync(
    policyFile,
    [
      'version: 1',
      'budgets:',
      '  - { id: team, scope: tenant, match: "acme", day_usd: 0.5 }',
      'rules:',
      '  - id: all',
      '    route: [cloud]',
      '',
    ].join('\n'),
  );
}, 60_000);
afterAll(async () => {
  await cloud?.close();
  await redis?.stop();
});

async function replicas(prefix: string, mode: 'fail_open' | 'fail_closed'): Promise<TestGateway[]> {
  const raw = {
    policies: { file: policyFile },
    redis: { url: redis.url, key_prefix: prefix }, // default command_timeout_ms: 50
    budgets: { on_store_error: mode, retry_after_s: 2 },
    prices: PRICES,
    keys: [{ id: 'buyer', sha256: await sha256Hex(KEY), tenant: 'acme' }],
    upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'], max_connections: 256 }],
  };
  return Promise.all([startTestGateway(raw), startTestGateway(raw)]);
}

interface Outcome {
  status: number;
  code: string | null;
  retryAfter: string | null;
  micros: number;
}

async function send(gw: TestGateway, i: number): Promise<Outcome> {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey: KEY, maxRetries: 0, timeout: 30_000 });
  try {
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: `spend ${i}` }], max_tokens: 20 });
    const u = r.usage!;
    // The same arithmetic the budget guard settles with.
    return {
      status: 200,
      code: null,
      retryAfter: null,
      micros: Math.ceil(costOf(PRICES, 'm', 'cloud', u.prompt_tokens, u.completion_tokens).cost * 1e6),
    };
  } catch (e) {
    if (!(e instanceof APIError)) throw e;
    return { status: e.status ?? 0, code: (e.code as string | null) ?? null, retryAfter: e.headers?.get('retry-after') ?? null, micros: 0 };
  }
}

/** Pauses every Redis client for 80 ms out of each 120 ms until stopped: commands time out on the gateways yet run later. */
function pauseRedisRepeatedly(): () => Promise<void> {
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  const timer = setInterval(() => void admin.call('CLIENT', 'PAUSE', '80', 'ALL').catch(() => undefined), 120);
  void admin.call('CLIENT', 'PAUSE', '80', 'ALL').catch(() => undefined);
  return async () => {
    clearInterval(timer);
    await admin.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    admin.disconnect();
  };
}

async function faultCount(gws: TestGateway[], mode: string): Promise<number> {
  let n = 0;
  for (const gw of gws) {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const m = new RegExp(`switchyard_budget_store_faults_total\\{mode="${mode}"\\} (\\d+)`).exec(text);
    n += Number(m?.[1] ?? 0);
  }
  return n;
}

async function race(gws: TestGateway[]): Promise<Outcome[]> {
  const stop = pauseRedisRepeatedly();
  try {
    return await Promise.all(Array.from({ length: 200 }, (_, i) => send(gws[i % 2]!, i)));
  } finally {
    await stop();
  }
}

async function expectCounterSettlesTo(prefix: string, outcomes: Outcome[]): Promise<void> {
  const spent = outcomes.reduce((a, o) => a + o.micros, 0);
  const oneRequest = Math.max(...outcomes.map((o) => o.micros), 6_000);
  const store = new RedisCounterStore({ url: redis.url, keyPrefix: prefix, commandTimeoutMs: 5000 });
  const day = new Date().toISOString().slice(0, 10);
  let last = -1;
  try {
    await waitUntil(
      async () => {
        last = (await store.get([`budget:team:acme:day:${day}`]))[0]!;
        return Math.abs(last - spent) <= oneRequest;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: `counter ${last} never settled near the actual spend ${spent}` },
    );
  } finally {
    await store.close();
  }
}

describe('budgets under Redis faults (two replicas, CLIENT PAUSE)', () => {
  it('fail_open: 200 concurrent requests get no 5xx and the counter settles to the actual spend', async () => {
    const prefix = 'bf-open:';
    const gws = await replicas(prefix, 'fail_open');
    try {
      const outcomes = await race(gws);
      const statuses = new Set(outcomes.map((o) => o.status));
      expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
      expect([...statuses].every((s) => s === 200 || s === 429)).toBe(true);
      expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(0);
      // The faults were real: some budget checks timed out and were served unenforced, and /metrics says so.
      expect(await faultCount(gws, 'fail_open')).toBeGreaterThan(0);
      await expectCounterSettlesTo(prefix, outcomes);
    } finally {
      await Promise.all(gws.map((g) => g.shutdown()));
    }
  }, 120_000);

  it('fail_closed: only 503 budget_unavailable (with Retry-After) among errors, and the counter settles to the actual spend', async () => {
    const prefix = 'bf-closed:';
    const gws = await replicas(prefix, 'fail_closed');
    try {
      const outcomes = await race(gws);
      const fives = outcomes.filter((o) => o.status >= 500);
      expect(fives.length).toBeGreaterThan(0);
      expect(fives.every((o) => o.status === 503 && o.code === 'budget_unavailable' && o.retryAfter === '2')).toBe(true);
      expect(outcomes.every((o) => o.status === 200 || o.status === 429 || o.status === 503)).toBe(true);
      expect(await faultCount(gws, 'fail_closed')).toBe(fives.length);
      await expectCounterSettlesTo(prefix, outcomes);
    } finally {
      await Promise.all(gws.map((g) => g.shutdown()));
    }
  }, 120_000);
});

describe('budgets with Redis killed under load', () => {
  it('fail_open: 5 s without Redis at ~20 req/s gives no client error for a budgeted key', async () => {
    const gws = await replicas('bf-kill:', 'fail_open');
    try {
      expect((await send(gws[0]!, 0)).status).toBe(200);
      await redis.kill();
      const pending: Array<Promise<Outcome>> = [];
      const start = Date.now();
      // 20 req/s on a schedule: a late timer (a busy machine) sends the requests that are due at once.
      while (Date.now() - start < 5_000) {
        const due = Math.min(100, Math.floor((Date.now() - start) / 50) + 1);
        while (pending.length < due) pending.push(send(gws[pending.length % 2]!, pending.length));
        await new Promise((r) => setTimeout(r, 10)); // pacing the load, not waiting for a condition
      }
      const outcomes = await Promise.all(pending);
      expect(outcomes.length).toBeGreaterThanOrEqual(95);
      expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
      expect(await faultCount(gws, 'fail_open')).toBeGreaterThan(0);
    } finally {
      await redis.restart();
      await Promise.all(gws.map((g) => g.shutdown()));
    }
  }, 120_000);
});
