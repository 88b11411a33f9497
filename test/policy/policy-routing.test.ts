/** Canary splits (sticky per key), pools balanced by load, edge overflow, and latency budgets from live estimates. */
import { afterAll, describe, expect, it } from 'vitest';
import { inferenceRequestFromBody } from '../../gateway/core/inference-request.js';
import { compilePolicy } from '../../gateway/policy/compile-policy.js';
import { policySchema } from '../../gateway/policy/policy-schema.js';
import { ModelCatalog } from '../../gateway/core/model-catalog.js';
import { ANONYMOUS } from '../../gateway/core/principal.js';
import { LiveStats } from '../../gateway/resilience/live-stats.js';
import type { Upstream, UpstreamLoad } from '../../gateway/core/upstream.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { upstreamSchema } from '../../gateway/config/schema.js';

/** Real upstream objects (nothing is called); their load numbers are set per test. */
const loads = new Map<string, UpstreamLoad>();
const ups: Upstream[] = ['edge', 'edge2', 'a', 'b', 'c'].map((id) => {
  const u = new OpenAICompatibleUpstream(
    upstreamSchema.parse({ id, url: 'http://127.0.0.1:9/v1', zone: id.startsWith('edge') ? 'edge' : 'cloud', models: ['m'] }),
  );
  u.load = () => loads.get(id) ?? { inFlight: 0 };
  return u;
});
afterAll(async () => Promise.all(ups.map((u) => u.close())));
const catalog = new ModelCatalog(ups);
const live = new LiveStats();

function decide(rules: unknown[], key = 'k1', tags: string[] = []) {
  const p = compilePolicy(policySchema.parse({ version: 1, tags: { pii: { route: 'edge-only' } }, rules }), 'v', catalog, live);
  return p.decide({
    request: inferenceRequestFromBody({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    headers: new Headers(tags.length ? { 'x-switchyard-tags': tags.join(',') } : {}),
    principal: { ...ANONYMOUS, keyId: key },
  });
}
const ids = (d: ReturnType<typeof decide>) => d.candidates.map((c) => c.upstream.id);

describe('policy routing', () => {
  it('splits traffic by weight, sticky per key', () => {
    const rules = [
      {
        id: 'canary',
        split: [
          { weight: 90, route: ['a'] },
          { weight: 10, route: ['b'] },
        ],
      },
    ];
    const picks = Array.from({ length: 2000 }, (_, i) => ids(decide(rules, `key-${i}`))[0]);
    const toB = picks.filter((p) => p === 'b').length / picks.length;
    expect(toB).toBeGreaterThan(0.06);
    expect(toB).toBeLessThan(0.14);
    // The same key always lands on the same branch.
    expect(new Set(Array.from({ length: 20 }, () => ids(decide(rules, 'key-7'))[0])).size).toBe(1);
  });

  it('balances a pool by outstanding requests or reported load', () => {
    loads.set('a', { inFlight: 5 });
    loads.set('b', { inFlight: 1 });
    loads.set('c', { inFlight: 3 });
    expect(ids(decide([{ id: 'p', route: [{ pool: ['a', 'b', 'c'] }] }]))).toEqual(['b', 'c', 'a']);
    loads.set('a', { inFlight: 9, queueDepth: 0 });
    loads.set('b', { inFlight: 0, queueDepth: 7 });
    loads.set('c', { inFlight: 0, queueDepth: 2 });
    expect(ids(decide([{ id: 'p', route: [{ pool: ['a', 'b', 'c'], balance: 'reported_load' }] }]))).toEqual(['a', 'c', 'b']);
    loads.clear();
  });

  it('overflows from a busy edge to the cloud, but never with edge-only data', () => {
    const rules = [{ id: 'hybrid', route: ['edge', 'a'], overflow: { queue_wait_ms: 500, to: ['a'] } }];
    expect(ids(decide(rules))).toEqual(['edge', 'a']);
    loads.set('edge', { inFlight: 10, queueWaitMs: 2_000 });
    expect(ids(decide(rules))).toEqual(['a', 'edge']);
    expect(ids(decide(rules, 'k', ['pii']))).toEqual(['edge']);
    loads.clear();
  });

  it('prefers destinations predicted to meet a first-token budget, or refuses when told', () => {
    for (let i = 0; i < 20; i++) {
      live.firstByte('a').add(900);
      live.firstByte('b').add(50);
    }
    const rules = (onMiss: string) => [{ id: 'fast', route: ['a', 'b'], latency_budget_ms: { ttft: 200, on_miss: onMiss } }];
    const d = decide(rules('best_effort'));
    expect(ids(d)).toEqual(['b', 'a']);
    expect(d.trace.join('\n')).toMatch(/a \(first byte p95 900 ms\) predicted to miss/);
    expect(() => decide([{ id: 'slow-only', route: ['a'], latency_budget_ms: { ttft: 200, on_miss: 'reject' } }])).toThrow(
      /latency budget of rule 'slow-only'/,
    );
    // Total budgets use first byte plus time per output token: b is quick to start but slow per token.
    for (let i = 0; i < 20; i++) live.perToken('b').add(20);
    const t = decide([{ id: 'total', route: ['b', 'c'], latency_budget_ms: { total: 1000 } }]);
    expect(t.trace.join('\n')).toMatch(/b \(predicted total \d+ ms\)/);
    expect(ids(decide([{ id: 'slow-only', route: ['a'], latency_budget_ms: { ttft: 200 } }]))).toEqual(['a']);
  });

  it('rejects a rule with both or neither of route and split', () => {
    expect(() => policySchema.parse({ version: 1, rules: [{ id: 'x' }] })).toThrow(/exactly one of route or split/);
    expect(() => policySchema.parse({ version: 1, rules: [{ id: 'x', route: ['a'], split: [{ weight: 1, route: ['b'] }] }] })).toThrow(/exactly one/);
  });
});
