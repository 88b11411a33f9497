/** The checks each Redis mode must pass with two replicas: exact shared limits, shared budgets, cache and records; failover. */
import { expect, it } from 'vitest';
import type { FakeOpenAI } from '../helpers/fake-openai.js';
import type { TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import {
  BUDGET_FAILOVER_KEY,
  BUDGET_KEY,
  BUDGET_REF_KEY,
  BUSY_KEY,
  insideMinute,
  LIMITED_KEY,
  LOAD_KEY,
  LOAD_RPM,
  PLAIN_KEY,
  PROBE_KEY,
  send,
  type Outcome,
} from './two-replicas.js';

export interface StreamReader {
  xlen(key: string): Promise<number>;
  close(): Promise<void>;
}

export function sharedStateChecks(gws: () => TestGateway[], cloud: () => FakeOpenAI, reader: () => StreamReader): void {
  it('a 5 rpm key gets exactly 5 of 12 concurrent requests through both replicas', async () => {
    await insideMinute(20_000);
    const outs = await Promise.all(Array.from({ length: 12 }, (_, i) => send(gws()[i % 2]!, LIMITED_KEY, `limited ${i}`)));
    expect(outs.filter((o) => o.status === 200)).toHaveLength(5);
    expect(outs.filter((o) => o.status === 429)).toHaveLength(7);
  }, 50_000);

  it('an answer cached by one replica is a hit on the other, without calling the cloud', async () => {
    const before = cloud().requests.length;
    const q = `cache me ${Date.now()}`;
    const first = await send(gws()[0]!, PLAIN_KEY, q, { temperature: 0 });
    const second = await send(gws()[1]!, PLAIN_KEY, q, { temperature: 0 });
    expect([first.cache, second.cache]).toEqual(['miss', 'hit']);
    expect(cloud().requests.length).toBe(before + 1);
  });

  it('a tenant budget is shared: spend through both replicas stops at the limit', async () => {
    const outs: Outcome[] = [];
    for (let i = 0; i < 30; i++) outs.push(await send(gws()[i % 2]!, BUDGET_KEY, `spend ${i}`));
    const ok = outs.filter((o) => o.status === 200).length;
    const firstDenied = outs.findIndex((o) => o.status !== 200);
    expect(ok).toBeGreaterThan(0);
    expect(firstDenied).toBeGreaterThan(0);
    // Once the shared counter is full, both replicas deny: nothing passes after the first denial.
    expect(outs.slice(firstDenied).every((o) => o.status !== 200)).toBe(true);
    expect(new Set(outs.slice(firstDenied).map((o) => o.code)).size).toBe(1);
    // (Per-replica counters would each have admitted what both did together: no denial within 30 requests.)
  });

  it('records from both replicas land on the shared stream', async () => {
    const r = reader();
    try {
      const stream = gws()[0]!.config.records.redis_stream;
      await waitUntil(async () => (await r.xlen(stream).catch(() => 0)) >= 10, { timeoutMs: 20_000, intervalMs: 200 });
    } finally {
      await r.close();
    }
  }, 30_000);
}

export interface FailoverResult {
  limit: number;
  /** LOAD_KEY requests admitted before the kill and after enforcement came back (both must be counted). */
  countedBeforePlusAfter: number;
  failoverMs: number;
  /** Until each replica answered a 429 on the rpm-1 probe key again. */
  enforcedAgainMs: number;
  enforcedAfter: boolean;
  loadRequests: number;
  failed: number;
  failedCodes: string[];
  /** Requests one tenant's budget admits with no failover (spent until the first denial). */
  budgetReference: number;
  /** The same budget, another tenant: admitted before the kill plus after the failover until the first denial. */
  budgetBeforePlusAfter: number;
}

/** Sends budgeted requests (alternating replicas) until the first denial; returns how many were admitted. */
async function spendUntilDenied(gws: TestGateway[], key: string, label: string, max = 60): Promise<number> {
  for (let i = 0; i < max; i++) if ((await send(gws[i % 2]!, key, `${label} ${i}`)).status !== 200) return i;
  throw new Error(`${label}: budget never denied within ${max} requests`);
}

/**
 * Counts LOAD_KEY requests before the kill, keeps two workers of BUSY_KEY requests (one per replica) running through
 * the kill and failover, then counts LOAD_KEY requests once both replicas enforce again.
 */
export async function runFailover(gws: TestGateway[], kill: () => Promise<() => Promise<boolean>>): Promise<FailoverResult> {
  // The budget's reference: how many requests it admits when nothing fails.
  const budgetReference = await spendUntilDenied(gws, BUDGET_REF_KEY, 'budget ref');
  // The other tenant spends half of that before the kill: those writes must survive the failover.
  const budgetBefore = Math.floor(budgetReference / 2);
  for (let i = 0; i < budgetBefore; i++) expect((await send(gws[i % 2]!, BUDGET_FAILOVER_KEY, `budget fo ${i}`)).status).toBe(200);
  await insideMinute(25_000);
  let before = 0;
  for (let i = 0; i < 10; i++) if ((await send(gws[i % 2]!, LOAD_KEY, `load ${i}`)).status === 200) before++;
  // One probe each, so the rpm-1 probe key is at its limit before the kill.
  await send(gws[0]!, PROBE_KEY, 'probe');

  const load: Outcome[] = [];
  let running = true;
  const workers = gws.map(async (gw, w) => {
    for (let i = 0; running; i++) load.push(await send(gw, BUSY_KEY, `busy ${w} ${i}`));
  });
  // Let the load run a moment before the crash.
  await waitUntil(() => load.length >= 20, { timeoutMs: 10_000 });
  const t0 = Date.now();
  const healed = await kill();
  await waitUntil(healed, { timeoutMs: 30_000, intervalMs: 50, message: 'no failover' });
  const failoverMs = Date.now() - t0;
  const enforced = new Set<number>();
  await waitUntil(
    async () => {
      for (let i = 0; i < gws.length; i++) if (!enforced.has(i) && (await send(gws[i]!, PROBE_KEY, 'probe')).status === 429) enforced.add(i);
      return enforced.size === gws.length;
    },
    { timeoutMs: 20_000, intervalMs: 50, message: 'limits never enforced again' },
  );
  const enforcedAgainMs = Date.now() - t0;
  running = false;
  await Promise.all(workers);

  let after = 0;
  let enforcedAfter = false;
  for (let i = 0; i < LOAD_RPM + 5; i++) {
    const o = await send(gws[i % 2]!, LOAD_KEY, `after ${i}`);
    if (o.status === 200) after++;
    if (o.status === 429) {
      enforcedAfter = true;
      break;
    }
  }
  const budgetAfter = await spendUntilDenied(gws, BUDGET_FAILOVER_KEY, 'budget fo after');
  const bad = load.filter((o) => o.status !== 200);
  return {
    budgetReference,
    budgetBeforePlusAfter: budgetBefore + budgetAfter,
    limit: LOAD_RPM,
    countedBeforePlusAfter: before + after,
    failoverMs,
    enforcedAgainMs,
    enforcedAfter,
    loadRequests: load.length,
    failed: bad.length,
    failedCodes: [...new Set(bad.map((o) => `${o.status} ${o.code}`))],
  };
}
