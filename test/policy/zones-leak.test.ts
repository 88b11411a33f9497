/**
 * Zones, taint, audit and replay through the real gateway, trying hard to leak. Four loopback fake upstreams, one per
 * zone (device, on-prem, region:eu-west, cloud). fast-check (fixed seed; FC_SEED explores) draws policies (each data
 * class: zones, edge-only, or unrestricted; a rule's route order, hedging, caching, a first-byte budget), conversations
 * (sessions by `user` or by header, turns that carry PII, a secret or a header tag, repeats that can hit the cache,
 * streaming or not) and faults (503s, slow first bytes that start hedges). Checked:
 * - what each fake upstream received (the marker of each turn) only reaches zones every class of that turn may reach,
 *   counting the classes its session carried earlier (taint);
 * - the records say the same: every record carries its turn's classes, and `audit` finds no class outside its zones;
 * - replaying the records under the policy that was live reproduces every decision (rule and ordered route).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { requestRecordSchema, type RequestRecord } from '../../gateway/records/request-record.js';
import { audit } from '../../gateway/audit/audit.js';
import { replay } from '../../gateway/replay/replay.js';
import { compileText } from '../../gateway/policy/policy-router.js';
import { ModelCatalog } from '../../gateway/core/model-catalog.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { upstreamSchema } from '../../gateway/config/schema.js';
import { configSchema } from '../../gateway/config/schema.js';

const UPSTREAMS = { dev: 'device', prem: 'on-prem', eu: 'region:eu-west', cloud: 'cloud' } as const;
type UpstreamId = keyof typeof UPSTREAMS;
const IDS = Object.keys(UPSTREAMS) as UpstreamId[];
const ZONE_CHOICES = ['device', 'on-prem', 'region:eu-west', 'region:*', 'cloud'];
const CLASSES = ['pii', 'secret', 'health'] as const;

/** The test's own reading of a class rule (independent of gateway/core/zones.ts): may it reach this zone? */
function allowed(rule: ClassRule, zone: string): boolean {
  if (rule === 'any') return true;
  if (rule === 'edge-only') return zone === 'device';
  return rule.some((p) => p === zone || (p === 'region:*' && zone.startsWith('region:')));
}
type ClassRule = 'any' | 'edge-only' | string[];

const classRule: fc.Arbitrary<ClassRule> = fc.oneof(
  fc.constant<ClassRule>('any'),
  fc.constant<ClassRule>('edge-only'),
  fc.subarray(ZONE_CHOICES, { minLength: 1 }),
);

const policyArb = fc.record({
  classes: fc.record({ pii: classRule, secret: classRule, health: classRule }),
  route: fc.shuffledSubarray(IDS, { minLength: 1 }),
  hedge: fc.boolean(),
  cache: fc.boolean(),
  ttft: fc.option(fc.integer({ min: 30, max: 400 }), { nil: undefined }),
});

const turnArb = fc.record({
  session: fc.integer({ min: 0, max: 2 }),
  pii: fc.boolean(),
  secret: fc.boolean(),
  health: fc.boolean(),
  stream: fc.boolean(),
  /** Send the previous turn's exact content again (temperature 0): a cache hit where the rule caches. */
  repeat: fc.boolean(),
});

const faultArb = fc.constantFrom('none', 'down', 'once', 'slow');

type PolicyDraw = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;

function policyText(p: PolicyDraw): string {
  const tags: Record<string, unknown> = {};
  for (const c of CLASSES) {
    const r = p.classes[c];
    if (r === 'edge-only') tags[c] = { route: 'edge-only' };
    else if (r !== 'any') tags[c] = { zones: r };
  }
  const rule: Record<string, unknown> = { id: 'r', route: p.route, hedge: p.hedge };
  if (p.cache) rule['cache'] = { enabled: true, ttl_seconds: 60 };
  if (p.ttft !== undefined) rule['latency_budget_ms'] = { ttft: p.ttft };
  // JSON is YAML: the gateway reads it through the same loader.
  return JSON.stringify({ version: 1, tags, taint: { ttl_seconds: 600, key: ['user', 'header'] }, rules: [rule] }, null, 1);
}

describe('zones under faults, hedges, cache and taint', () => {
  const fakes = {} as Record<UpstreamId, FakeOpenAI>;
  let gw: TestGateway;
  let file: string;
  let recordsDir: string;

  beforeAll(async () => {
    for (const id of IDS) fakes[id] = await startFakeOpenAI({ reply: `from ${id}` });
    const dir = mkdtempSync(join(tmpdir(), 'sy-zones-'));
    file = join(dir, 'policy.yaml');
    recordsDir = join(dir, 'records');
    writeFileSync(file, 'version: 1\nrules:\n  - id: start\n    route: [dev]\n');
    gw = await startTestGateway({
      policies: { file, poll_ms: 50 },
      records: { sink: 'jsonl', dir: recordsDir },
      resilience: { retries: 1, backoff_base_ms: 5, backoff_max_ms: 20, hedge_min_ms: 40, hedge_default_ms: 80 },
      upstreams: IDS.map((id) => ({ id, url: fakes[id].url, zone: UPSTREAMS[id], models: ['m'] })),
    });
  });
  afterAll(async () => {
    await gw?.shutdown();
    for (const f of Object.values(fakes)) await f?.close();
  });

  const readRecords = (): RequestRecord[] =>
    readdirSync(recordsDir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => readFileSync(join(recordsDir, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => requestRecordSchema.parse(JSON.parse(l)));

  it('no tagged content reaches a forbidden zone; records, audit and replay agree', async () => {
    const texts = new Map<string, string>(); // policy version -> text, for replay
    const expected = new Map<string, Set<string>>(); // request id -> the classes its record must carry
    let sent = 0;
    let hedgedOrFellBack = 0;
    let cacheHits = 0;
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(turnArb, { minLength: 1, maxLength: 5 }),
        fc.record({ dev: faultArb, prem: faultArb, eu: faultArb, cloud: faultArb }),
        async (p, turns, faults) => {
          const text = policyText(p);
          writeFileSync(file, text);
          const version = `v1-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
          texts.set(version, text);
          await waitUntil(
            async () => ((await (await fetch(`${gw.url}/admin/policies`)).json()) as { policy: { version: string } }).policy.version === version,
            { timeoutMs: 10_000, intervalMs: 20 },
          );
          for (const id of IDS) {
            fakes[id].reset();
            const f = faults[id];
            if (f === 'down') fakes[id].setFault({ status: 503 });
            else if (f === 'once') fakes[id].setFault({ status: 503, times: 1 });
            else if (f === 'slow') fakes[id].setFault({ firstByteDelayMs: 150 });
          }
          const run = randomUUID().slice(0, 8);
          const sessionClasses = new Map<number, Set<string>>();
          const markerClasses = new Map<string, Array<Set<string>>>();
          let previous: { content: string; marker: string } | undefined;
          for (const t of turns) {
            const repeat = t.repeat && previous !== undefined;
            const marker = repeat ? previous!.marker : `mk${randomUUID().replace(/-/g, '')}`;
            const content = repeat
              ? previous!.content
              : `${marker} ${t.pii ? 'mail ann.lee@example.org' : ''} ${t.secret ? 'key sk-abcdefghijklmnopqrstuvwxyz123456' : ''}`;
            previous = { content, marker };
            const own = new Set<string>();
            if (content.includes('@example.org')) own.add('pii');
            if (content.includes('sk-abc')) own.add('secret');
            if (t.health) own.add('health');
            const session = sessionClasses.get(t.session) ?? new Set<string>();
            const classes = new Set([...own, ...session]);
            sessionClasses.set(t.session, classes);
            // A record names the carried classes this policy acts on (others cannot change its decisions).
            const recorded = new Set([...own, ...[...session].filter((c) => p.classes[c as (typeof CLASSES)[number]] !== 'any')]);
            markerClasses.set(marker, [...(markerClasses.get(marker) ?? []), classes]);
            const id = `zl-${randomUUID()}`;
            expected.set(id, recorded);
            const headers: Record<string, string> = { 'x-request-id': id };
            if (t.health) headers['x-switchyard-tags'] = 'health';
            // Sessions 0 and 2 are known by the user field, session 1 by the header.
            const user = t.session !== 1 ? `${run}-u${t.session}` : undefined;
            if (t.session === 1) headers['x-switchyard-session'] = `${run}-s1`;
            const body = { model: 'm', temperature: 0, messages: [{ role: 'user' as const, content }], ...(user ? { user } : {}) };
            sent++;
            const answered = t.stream
              ? gw.client.chat.completions.create({ ...body, stream: true }, { headers }).then(async (s) => {
                  for await (const _ of s) void _;
                })
              : gw.client.chat.completions.create(body, { headers }).withResponse();
            await answered.catch(() => undefined);
          }
          // Everything each fake received, attributed by marker: some turn with that marker may reach its zone.
          for (const id of IDS) {
            const zone = UPSTREAMS[id];
            for (const req of fakes[id].requests) {
              const text = JSON.stringify(req.body);
              for (const [marker, senders] of markerClasses) {
                if (!text.includes(marker)) continue;
                const ok = senders.some((cls) => [...cls].every((c) => allowed(p.classes[c as (typeof CLASSES)[number]], zone)));
                expect(ok, `${marker} with classes ${senders.map((s) => [...s].join('+')).join(' | ')} reached ${id} (${zone}) under ${text}`).toBe(
                  true,
                );
              }
            }
          }
        },
      ),
      { numRuns: Number(process.env['FC_RUNS'] ?? 25), seed: Number(process.env['FC_SEED'] ?? 20261126) },
    );

    // Records: one per request, each carrying its turn's classes (its own and its session's).
    await waitUntil(() => readRecords().filter((r) => r.id.startsWith('zl-')).length >= sent, { timeoutMs: 20_000, message: 'records' });
    const records = readRecords().filter((r) => r.id.startsWith('zl-'));
    for (const r of records) {
      const want = expected.get(r.id);
      expect(want, r.id).toBeDefined();
      for (const c of want!) expect(r.tags, `${r.id} lacks ${c}: ${JSON.stringify(r)}`).toContain(c);
      if ((r.decision?.tried.length ?? 0) > 1) hedgedOrFellBack++;
      if (r.cache === 'hit') cacheHits++;
    }
    // The run really tried: fallbacks or hedges happened, and some answers came from the cache.
    expect(hedgedOrFellBack).toBeGreaterThan(0);
    expect(cacheHits).toBeGreaterThan(0);

    // Audit: no class reached a zone its own recorded limits forbid.
    for (const c of CLASSES) {
      const a = audit(records, { dataClass: c, from: 0, to: Date.now() + 1 });
      expect(a.violations, JSON.stringify(a.violations.slice(0, 3))).toEqual([]);
    }

    // Replay under the policy that was live reproduces every decision exactly.
    const catalog = new ModelCatalog(
      IDS.map((id) => new OpenAICompatibleUpstream(upstreamSchema.parse({ id, url: fakes[id].url, zone: UPSTREAMS[id], models: ['m'] }))),
    );
    const prices = configSchema.parse({}).prices;
    let replayed = 0;
    for (const [version, text] of texts) {
      const mine = records.filter((r) => r.decision?.policy_version === version);
      if (mine.length === 0) continue;
      const compiled = await compileText(text, 'policy.yaml', catalog);
      expect(compiled.version).toBe(version);
      const rep = replay(mine, compiled, { catalog, prices });
      expect(rep.changed, JSON.stringify(rep.examples.slice(0, 2))).toBe(0);
      expect(rep.unchanged).toBe(mine.length);
      expect(rep.new_zones).toEqual([]);
      replayed += rep.unchanged;
    }
    expect(replayed).toBeGreaterThan(sent / 2);
    await Promise.all(catalog.upstreams.map((u) => u.close()));
  }, 300_000);
});
