/**
 * Compiles a policy once into a decision function: globs become regexes, detectors are built, tag rules are indexed.
 * `decide` then turns a request into a Decision whose candidates already obey the privacy rules. Each step of a
 * decision is a named function below, in the order they run.
 */
import type { CascadePlan, CostRules, Decision, RouteCandidate, RouteInput } from '../core/decision.js';
import { errors, GatewayError } from '../core/errors.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { BUILT_IN_DETECTORS, scan, type DetectorSpec } from './detectors.js';
import type { Policy, PolicyRule } from './policy-schema.js';
import type { LiveStats } from '../resilience/live-stats.js';
import { compileRule, globRe } from './compile-rule.js';
import { redactBody, requestText } from './request-text.js';

export { requestText } from './request-text.js';

type Destination = NonNullable<PolicyRule['route']>[number];

export interface CompiledPolicy {
  version: string;
  decide(input: RouteInput): Decision;
  /** Tags a request carries (header, metadata, key defaults, detectors), for explain and tests. */
  tags(input: RouteInput): { tags: Set<string>; detected: string[] };
}

/** FNV-1a: a stable bucket for sticky canary splits. */
function bucket(text: string, mod: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % mod;
}

const asCandidate = (c: { upstream: RouteCandidate['upstream']; upstreamModel: string }): RouteCandidate => ({
  upstream: c.upstream,
  upstreamModel: c.upstreamModel,
  zone: c.upstream.zone,
});

export function compilePolicy(policy: Policy, version: string, catalog: ModelCatalog, live?: LiveStats): CompiledPolicy {
  const detectors: DetectorSpec[] = [
    ...BUILT_IN_DETECTORS.filter((d) => !policy.disable_detectors.includes(d.name)),
    ...policy.detectors.map((d) => ({ name: d.name, tag: d.tag, pattern: new RegExp(d.pattern, 'g') })),
  ];
  const rules = policy.rules.map(compileRule);
  // Tags are case-insensitive everywhere: header, metadata, key defaults, detectors, tag rules and rule matches.
  const budgetMatchers = policy.budgets.map((b) => ({ budget: b, re: globRe(b.match) })); // compiled once, not per request
  const tagRules = new Map(Object.entries(policy.tags).map(([name, rule]) => [name.toLowerCase(), rule]));

  /** Step 1: the request's data classes, from key defaults, the tags header, metadata and content detectors. */
  const tagsOf = (input: RouteInput) => {
    const tags = new Set<string>(input.principal.defaultTags.map((t) => t.toLowerCase()));
    const add = (list: string | null | undefined) => {
      for (const t of (list ?? '').split(',')) if (t.trim()) tags.add(t.trim().toLowerCase());
    };
    add(input.headers.get('x-switchyard-tags'));
    add(input.request.metadata?.['tags']);
    const findings = scan(requestText(input.request.body), detectors);
    for (const f of findings) tags.add(f.tag);
    return { tags, detected: [...new Set(findings.map((f) => f.detector))] };
  };

  /** Step 2: the matched rule's destinations, canary split and pools expanded, edge overflow applied. */
  const routeOf = (rule: PolicyRule, input: RouteInput, serving: readonly RouteCandidate[], trace: string[]): RouteCandidate[] => {
    let route = rule.route;
    if (rule.split) {
      const total = rule.split.reduce((a, b) => a + b.weight, 0);
      let b = bucket(`${rule.id}:${input.principal.keyId}`, total);
      const branch = rule.split.find((x) => (b -= x.weight) < 0) ?? rule.split[rule.split.length - 1];
      route = branch?.route;
      trace.push(`split: branch of weight ${branch?.weight}/${total} (sticky per key)`);
    }
    let candidates = toCandidates(expandPools(route ?? []), serving);
    const ov = rule.overflow;
    if (ov) {
      const waits = candidates.filter((c) => c.zone === 'edge').map((c) => c.upstream.load().queueWaitMs ?? 0);
      if (waits.length > 0 && Math.min(...waits) > ov.queue_wait_ms) {
        const front = toCandidates(ov.to, serving);
        candidates = [...front, ...candidates.filter((c) => !front.some((f) => f.upstream === c.upstream))];
        trace.push(`overflow: edge queue wait ${Math.min(...waits)} ms > ${ov.queue_wait_ms} ms`);
      }
    }
    return candidates;
  };

  /** Pools expand to their members, best first: fewest requests in flight, or the upstream's own reported load. */
  const expandPools = (dests: readonly Destination[]): string[] =>
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

  /** Step 3: reorder (or reject) by latency budget, predicted from live windows (first byte p95, per-token p50). */
  const applyLatencyBudget = (rule: PolicyRule, input: RouteInput, candidates: RouteCandidate[], trace: string[]): RouteCandidate[] => {
    const lb = rule.latency_budget_ms;
    if (!lb || !live || (!lb.ttft && !lb.total)) return candidates;
    const maxOut = input.request.tokens.output;
    const misses = (c: RouteCandidate): string | undefined => {
      const first = live.firstByte(c.upstream.id).p95();
      if (lb.ttft && first !== undefined && first > lb.ttft) return `${c.upstream.id} (first byte p95 ${Math.round(first)} ms)`;
      const total = live.predictTotalMs(c.upstream.id, maxOut);
      if (lb.total && total !== undefined && total > lb.total) return `${c.upstream.id} (predicted total ${Math.round(total)} ms)`;
      return undefined;
    };
    const missed = candidates.map((c) => [c, misses(c)] as const).filter(([, m]) => m);
    if (missed.length === 0) return candidates;
    trace.push(`latency budget: ${missed.map(([, m]) => m).join(', ')} predicted to miss`);
    const meets = candidates.filter((c) => !missed.some(([m]) => m === c));
    if (meets.length === 0 && lb.on_miss === 'reject') {
      throw new GatewayError(`No destination is predicted to meet the latency budget of rule '${rule.id}'.`, {
        status: 503,
        code: 'latency_budget_unmeetable',
      });
    }
    return [...meets, ...candidates.filter((c) => !meets.includes(c))];
  };

  /** Step 4, privacy: the strictest tag wins. Edge-only removes every cloud candidate; cloud allowlists intersect. */
  const applyPrivacy = (tags: ReadonlySet<string>, candidates: RouteCandidate[], trace: string[]) => {
    let edgeOnly = false;
    let redactIt = false;
    let reversible = false;
    let allowed = candidates;
    for (const t of tags) {
      const tr = tagRules.get(t);
      if (!tr) continue;
      if (tr.route === 'edge-only') edgeOnly = true;
      else if (tr.route === 'redact') {
        redactIt = true;
        reversible ||= tr.reversible;
      } else allowed = allowed.filter((c) => c.zone === 'edge' || tr.upstreams.includes(c.upstream.id));
    }
    if (edgeOnly) {
      allowed = allowed.filter((c) => c.zone === 'edge' && c.upstream.zone === 'edge');
      trace.push('edge-only: cloud destinations removed');
    }
    return { candidates: allowed, edgeOnly, redactIt, reversible };
  };

  /** Step 5: per-request caps and the budgets that apply to this key/tenant; downgrade targets obey privacy too. */
  const costRulesOf = (
    rule: PolicyRule | undefined,
    input: RouteInput,
    edgeOnly: boolean,
    serving: readonly RouteCandidate[],
  ): CostRules | undefined => {
    const allowed = (ids: readonly string[]) => toCandidates(ids, serving).filter((c) => !edgeOnly || c.zone === 'edge');
    const scopeId = (scope: 'key' | 'tenant') => (scope === 'key' ? input.principal.keyId : input.principal.tenant);
    const budgets = budgetMatchers
      .filter(({ budget, re }) => re.test(scopeId(budget.scope)))
      .map(({ budget: b }) => ({ id: b.id, counter: `budget:${b.id}:${scopeId(b.scope)}`, dayUsd: b.day_usd, monthUsd: b.month_usd }));
    const cap = rule?.cost;
    if (!cap && budgets.length === 0) return undefined;
    return {
      maxRequestUsd: cap?.max_request_usd,
      onRequestCap: cap?.on_exceed ?? 'reject',
      downgrade: allowed(cap?.downgrade_to ?? []),
      budgets,
      onBudget: policy.on_budget_exceeded.action,
      budgetDowngrade: allowed(policy.on_budget_exceeded.downgrade_to ?? []),
      noPaidFallback: cap?.no_paid_fallback,
    };
  };

  /** The cascade's edge candidates and its escalation list, both through the same privacy filter as the route. */
  const cascadePlan = (
    c: NonNullable<PolicyRule['cascade']>,
    input: RouteInput,
    allowed: readonly RouteCandidate[],
    tags: ReadonlySet<string>,
    trace: string[],
  ): CascadePlan | undefined => {
    const first = c.edge
      ? applyPrivacy(tags, catalog.candidates(c.edge).map(asCandidate), []).candidates.filter((x) => x.zone === 'edge')
      : allowed.filter((x) => x.zone === 'edge');
    if (first.length === 0) {
      trace.push('cascade: no edge destination serves the request: skipped');
      return undefined;
    }
    const serving = catalog.candidates(input.request.model).map(asCandidate);
    const escalate = applyPrivacy(tags, toCandidates(c.escalate_to, serving), []).candidates;
    trace.push(
      `cascade: ${first[0]?.upstream.id} first (${c.check} >= ${c.threshold}), else ${escalate.map((x) => x.upstream.id).join(' -> ') || '(nothing allowed: keep)'}`,
    );
    return { first, escalate, check: c.check, threshold: c.threshold };
  };

  return {
    version,
    tags: tagsOf,
    decide(input) {
      const trace: string[] = [`policy ${version}`];
      const { tags, detected } = tagsOf(input);
      if (detected.length) trace.push(`detected: ${detected.join(', ')}`);
      trace.push(`tags: ${[...tags].join(', ') || '(none)'}`);
      const model = input.request.model;
      const serving = catalog.candidates(model).map(asCandidate);
      if (serving.length === 0) throw errors.modelNotFound(model);
      const hit = rules.find((r) => r.test(input, tags))?.rule;
      let routed: RouteCandidate[];
      if (hit) {
        trace.push(`rule '${hit.id}' matched`);
        routed = applyLatencyBudget(hit, input, routeOf(hit, input, serving, trace), trace);
      } else {
        trace.push('no rule matched: every upstream serving the model, in configuration order');
        routed = serving;
      }
      const { candidates, edgeOnly, redactIt, reversible } = applyPrivacy(tags, routed, trace);
      trace.push(`candidates: ${candidates.map((c) => c.upstream.id).join(' -> ') || '(none)'}`);
      if (candidates.length === 0) {
        throw errors.invalid(
          `No destination allowed by policy ${version} can serve '${model}' for this request (tags: ${[...tags].join(', ') || 'none'}).`,
          'model',
          'no_allowed_destination',
        );
      }
      const cascade = hit?.cascade ? cascadePlan(hit.cascade, input, candidates, tags, trace) : undefined;
      const budget = hit?.latency_budget_ms?.total;
      const masks = redactIt && !edgeOnly && detected.length ? (reversible ? new Map<string, string>() : undefined) : undefined;
      return {
        candidates,
        edgeOnly,
        tags: [...tags],
        ruleId: hit?.id ?? 'default',
        policyVersion: version,
        // Tagged (sensitive) content is cached only where a rule says so explicitly.
        cache: hit?.cache
          ? {
              enabled: hit.cache.enabled,
              ttlSeconds: hit.cache.ttl_seconds,
              ...(hit.cache.semantic
                ? {
                    semantic: {
                      threshold: hit.cache.semantic.threshold,
                      embeddingModel: hit.cache.semantic.embedding_model,
                      tagged: hit.cache.semantic.tagged,
                    },
                  }
                : {}),
            }
          : { enabled: input.request.temperature === 0 && ![...tags].some((t) => tagRules.has(t)), ttlSeconds: 300 },
        hedge: hit?.hedge,
        deadline: budget ? Date.now() + budget : undefined,
        cost: costRulesOf(hit, input, edgeOnly, serving),
        cascade,
        ...(redactIt && !edgeOnly && detected.length ? { body: redactBody(input.request.body, detectors, masks), unmask: masks } : {}),
        trace,
      };
    },
  };
}

/** Destination ids -> the candidates that serve the model, in the given order. */
function toCandidates(ids: readonly string[], serving: readonly RouteCandidate[]): RouteCandidate[] {
  return ids.flatMap((id) => serving.filter((c) => c.upstream.id === id));
}
