/**
 * Compiles a policy once into a decision function: globs become regexes, detectors are built, tag rules are indexed.
 * `decide` then turns a request into a Decision whose candidates already obey the privacy rules.
 */
import type { Decision, RouteCandidate, RouteInput } from '../core/decision.js';
import { errors } from '../core/errors.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import { BUILT_IN_DETECTORS, redact, scan, type DetectorSpec } from './detectors.js';
import type { Policy, PolicyRule } from './policy-schema.js';
import type { LiveStats } from '../resilience/live-stats.js';
import { GatewayError } from '../core/errors.js';

type Destination = NonNullable<PolicyRule['route']>[number];

/** FNV-1a: a stable bucket for sticky canary splits. */
function bucket(text: string, mod: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % mod;
}

const globRe = (g: string) =>
  new RegExp(
    `^${g
      .split('*')
      .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

interface CompiledRule {
  rule: PolicyRule;
  test(input: RouteInput, tags: ReadonlySet<string>, bytes: number): boolean;
}

function compileRule(rule: PolicyRule): CompiledRule {
  const m = rule.match;
  const checks: Array<(i: RouteInput, tags: ReadonlySet<string>, bytes: number) => boolean> = [];
  const any = (gs: string[] | undefined, pick: (i: RouteInput) => string) => {
    if (!gs) return;
    const res = gs.map(globRe);
    checks.push((i) => res.some((r) => r.test(pick(i))));
  };
  any(m.models, (i) => i.model);
  any(m.tenants, (i) => i.principal.tenant);
  any(m.keys, (i) => i.principal.keyId);
  if (m.tags) checks.push((_i, tags) => m.tags!.some((t) => tags.has(t)));
  if (m.metadata)
    checks.push((i) => {
      const md = i.body['metadata'];
      return !!md && typeof md === 'object' && !Array.isArray(md) && Object.entries(m.metadata!).every(([k, v]) => md[k] === v);
    });
  if (m.headers) checks.push((i) => Object.entries(m.headers!).every(([k, v]) => i.headers.get(k) === v));
  if (m.max_bytes !== undefined) checks.push((_i, _t, b) => b <= m.max_bytes!);
  if (m.min_bytes !== undefined) checks.push((_i, _t, b) => b >= m.min_bytes!);
  return { rule, test: (i, t, b) => checks.every((c) => c(i, t, b)) };
}

/** All user-visible text of a request (chat messages, prompt, input). */
export function requestText(body: JsonObject): string {
  const parts: string[] = [];
  const walk = (v: JsonValue | undefined) => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(body['messages']);
  walk(body['prompt']);
  walk(body['input']);
  return parts.join('\n');
}

function redactBody(body: JsonObject, detectors: readonly DetectorSpec[], masks?: Map<string, string>): JsonObject {
  const fix = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return redact(v, scan(v, detectors), masks);
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'role' || k === 'type' ? x : fix(x)]));
    return v;
  };
  const out: JsonObject = { ...body };
  for (const k of ['messages', 'prompt', 'input']) if (k in body) out[k] = fix(body[k]!);
  return out;
}

export interface CompiledPolicy {
  version: string;
  decide(input: RouteInput, bytes?: number): Decision;
  /** Tags a request carries (header, metadata, key defaults, detectors), for explain and tests. */
  tags(input: RouteInput): { tags: Set<string>; detected: string[] };
}

export function compilePolicy(policy: Policy, version: string, catalog: ModelCatalog, live?: LiveStats): CompiledPolicy {
  const detectors: DetectorSpec[] = [
    ...BUILT_IN_DETECTORS.filter((d) => !policy.disable_detectors.includes(d.name)),
    ...policy.detectors.map((d) => ({ name: d.name, tag: d.tag, pattern: new RegExp(d.pattern, 'g') })),
  ];
  const rules = policy.rules.map(compileRule);

  const tagsOf = (input: RouteInput) => {
    const tags = new Set<string>(input.principal.defaultTags);
    for (const t of (input.headers.get('x-switchyard-tags') ?? '').split(',')) if (t.trim()) tags.add(t.trim());
    const md = input.body['metadata'];
    if (md && typeof md === 'object' && !Array.isArray(md) && typeof md['tags'] === 'string')
      for (const t of md['tags'].split(',')) if (t.trim()) tags.add(t.trim());
    const detected = [
      ...new Set(
        scan(requestText(input.body), detectors).map((f) => {
          tags.add(f.tag);
          return f.detector;
        }),
      ),
    ];
    return { tags, detected };
  };

  return {
    version,
    tags: tagsOf,
    decide(input, bytes = JSON.stringify(input.body).length) {
      const trace: string[] = [`policy ${version}`];
      const { tags, detected } = tagsOf(input);
      if (detected.length) trace.push(`detected: ${detected.join(', ')}`);
      trace.push(`tags: ${[...tags].join(', ') || '(none)'}`);
      const serving = catalog.candidates(input.model);
      if (serving.length === 0) throw errors.modelNotFound(input.model);
      const hit = rules.find((r) => r.test(input, tags, bytes));
      let candidates: RouteCandidate[];
      const toCandidates = (ids: readonly string[]) =>
        ids
          .flatMap((id) => serving.filter((c) => c.upstream.id === id))
          .map((c) => ({ upstream: c.upstream, upstreamModel: c.upstreamModel, zone: c.upstream.zone }));
      // Pools expand to their members, best first: fewest requests in flight, or the upstream's own reported load.
      const expand = (dests: readonly Destination[]) =>
        dests.flatMap((d) => {
          if (typeof d === 'string') return [d];
          const score = (id: string) => {
            const l = catalog.upstream(id)?.load();
            if (!l) return Infinity;
            return d.balance === 'reported_load' && l.queueDepth !== undefined
              ? l.queueDepth * 1000 + (1 - (l.kvFreeFraction ?? 1)) * 100 + l.inFlight
              : l.inFlight;
          };
          return [...d.pool].sort((a, b) => score(a) - score(b));
        });
      if (hit) {
        trace.push(`rule '${hit.rule.id}' matched`);
        let route = hit.rule.route;
        if (hit.rule.split) {
          const total = hit.rule.split.reduce((a, b) => a + b.weight, 0);
          let b = bucket(`${hit.rule.id}:${input.principal.keyId}`, total);
          const branch = hit.rule.split.find((x) => (b -= x.weight) < 0)!;
          route = branch.route;
          trace.push(`split: branch of weight ${branch.weight}/${total} (sticky per key)`);
        }
        candidates = toCandidates(expand(route!));
        const ov = hit.rule.overflow;
        if (ov) {
          const waits = candidates.filter((c) => c.zone === 'edge').map((c) => c.upstream.load().queueWaitMs ?? 0);
          if (waits.length > 0 && Math.min(...waits) > ov.queue_wait_ms) {
            const front = toCandidates(ov.to);
            candidates = [...front, ...candidates.filter((c) => !front.some((f) => f.upstream === c.upstream))];
            trace.push(`overflow: edge queue wait ${Math.min(...waits)} ms > ${ov.queue_wait_ms} ms`);
          }
        }
        const lb = hit.rule.latency_budget_ms;
        if (lb && live && (lb.ttft || lb.total)) {
          const maxOut =
            typeof input.body['max_tokens'] === 'number'
              ? input.body['max_tokens']
              : typeof input.body['max_completion_tokens'] === 'number'
                ? input.body['max_completion_tokens']
                : 256;
          // Predicted from live windows: p95 time to first byte, plus p50 time per output token for the total.
          const misses = (c: RouteCandidate): string | undefined => {
            const first = live.firstByte(c.upstream.id).p95();
            if (lb.ttft && first !== undefined && first > lb.ttft) return `${c.upstream.id} (first byte p95 ${Math.round(first)} ms)`;
            const total = live.predictTotalMs(c.upstream.id, maxOut);
            if (lb.total && total !== undefined && total > lb.total) return `${c.upstream.id} (predicted total ${Math.round(total)} ms)`;
            return undefined;
          };
          const missed = candidates.map((c) => [c, misses(c)] as const).filter(([, m]) => m);
          if (missed.length > 0) {
            trace.push(`latency budget: ${missed.map(([, m]) => m).join(', ')} predicted to miss`);
            const meets = candidates.filter((c) => !missed.some(([m]) => m === c));
            if (meets.length === 0 && lb.on_miss === 'reject') {
              throw new GatewayError(`No destination is predicted to meet the latency budget of rule '${hit.rule.id}'.`, {
                status: 503,
                code: 'latency_budget_unmeetable',
              });
            }
            candidates = [...meets, ...candidates.filter((c) => !meets.includes(c))];
          }
        }
      } else {
        trace.push('no rule matched: every upstream serving the model, in configuration order');
        candidates = serving.map((c) => ({ upstream: c.upstream, upstreamModel: c.upstreamModel, zone: c.upstream.zone }));
      }
      // Privacy: the strictest tag wins. Edge-only removes every cloud candidate; cloud allowlists intersect.
      let edgeOnly = false;
      let redactIt = false;
      let reversible = false;
      for (const t of tags) {
        const tr = policy.tags[t];
        if (!tr) continue;
        if (tr.route === 'edge-only') edgeOnly = true;
        else if (tr.route === 'redact') {
          redactIt = true;
          reversible ||= tr.reversible;
        } else candidates = candidates.filter((c) => c.zone === 'edge' || tr.upstreams.includes(c.upstream.id));
      }
      if (edgeOnly) {
        candidates = candidates.filter((c) => c.zone === 'edge' && c.upstream.zone === 'edge');
        trace.push('edge-only: cloud destinations removed');
      }
      trace.push(`candidates: ${candidates.map((c) => c.upstream.id).join(' -> ') || '(none)'}`);
      if (candidates.length === 0) {
        throw errors.invalid(
          `No destination allowed by policy ${version} can serve '${input.model}' for this request (tags: ${[...tags].join(', ') || 'none'}).`,
          'model',
          'no_allowed_destination',
        );
      }
      const budget = hit?.rule.latency_budget_ms?.total;
      // Downgrade targets obey the same privacy filter as everything else.
      const allowed = (ids: readonly string[]) => toCandidates(ids).filter((c) => !edgeOnly || c.zone === 'edge');
      const matchingBudgets = policy.budgets
        .filter((b) => globRe(b.match).test(b.scope === 'key' ? input.principal.keyId : input.principal.tenant))
        .map((b) => ({
          id: b.id,
          counter: `budget:${b.id}:${b.scope === 'key' ? input.principal.keyId : input.principal.tenant}`,
          dayUsd: b.day_usd,
          monthUsd: b.month_usd,
        }));
      const costRule = hit?.rule.cost;
      const cost =
        costRule || matchingBudgets.length > 0
          ? {
              maxRequestUsd: costRule?.max_request_usd,
              onRequestCap: costRule?.on_exceed ?? 'reject',
              downgrade: allowed(costRule?.downgrade_to ?? []),
              budgets: matchingBudgets,
              onBudget: policy.on_budget_exceeded.action,
              budgetDowngrade: allowed(policy.on_budget_exceeded.downgrade_to ?? []),
            }
          : undefined;
      return {
        candidates,
        edgeOnly,
        tags: [...tags],
        ruleId: hit?.rule.id ?? 'default',
        policyVersion: version,
        // Tagged (sensitive) content is cached only where a rule says so explicitly.
        cache: hit?.rule.cache
          ? { enabled: hit.rule.cache.enabled, ttlSeconds: hit.rule.cache.ttl_seconds }
          : { enabled: input.body['temperature'] === 0 && ![...tags].some((t) => t in policy.tags), ttlSeconds: 300 },
        hedge: hit?.rule.hedge,
        deadline: budget ? Date.now() + budget : undefined,
        cost,
        ...(redactIt && !edgeOnly && detected.length
          ? (() => {
              const masks = reversible ? new Map<string, string>() : undefined;
              return { body: redactBody(input.body, detectors, masks), unmask: masks };
            })()
          : {}),
        trace,
      };
    },
  };
}
