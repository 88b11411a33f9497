/**
 * Compiles a policy once into a decision function: globs become regexes, detectors are built, tag rules are indexed.
 * `decide` then turns a request into a Decision whose candidates already obey the privacy rules. Each step of a
 * decision is a named function below, in the order they run.
 */
import type { CascadePlan, CostRules, Decision, DecisionAudit, RouteCandidate, RouteInput } from '../core/decision.js';
import { errors, GatewayError } from '../core/errors.js';
import { forbiddingClasses, mayReach, type Zone, type ZoneLimit } from '../core/zones.js';
import { noAllowedZone } from '../core/zone-errors.js';
import type { CounterStore } from '../counters/counter-store.js';
import { MemoryCounterStore } from '../counters/memory-counter-store.js';
import { detectorVersion, guardedScan, type Scanner } from './guarded-scan.js';
import { recordingView, type LiveView } from './live-view.js';
import { SessionTaint } from './session-taint.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { BUILT_IN_DETECTORS, scan, type DetectorSpec } from './detectors.js';
import type { Policy, PolicyRule } from './policy-schema.js';
import type { LiveStats } from '../resilience/live-stats.js';
import { compileRule, globRe } from './compile-rule.js';
import { redactBody, requestText, scanRequest } from './request-text.js';
import { PrefixAffinity } from '../routing/prefix-affinity.js';

export { requestText } from './request-text.js';

type Destination = NonNullable<PolicyRule['route']>[number];

/** How a decision is taken besides the request: replay passes recorded tags and live numbers, the router taint. */
export interface DecideOptions {
  /** The request's tags as recorded (replay: no content to scan); skips detectors and header/metadata tags. */
  tags?: readonly string[];
  /** Classes earlier turns of the session carried (taint). */
  tainted?: readonly string[];
  /** Where live numbers come from (default: the live gateway's, noted into the decision's audit). */
  live?: LiveView;
}

export interface CompileOptions {
  /** Where session taint is kept (policy `taint:`); in memory when absent. */
  counters?: CounterStore;
  /** Tests: a scanner that fails, to prove fail-closed. */
  scanner?: Scanner;
}

export interface CompiledPolicy {
  version: string;
  decide(input: RouteInput, opts?: DecideOptions): Decision;
  /** Tags a request carries (header, metadata, key defaults, detectors), for explain and tests. */
  tags(input: RouteInput): { tags: Set<string>; detected: string[] };
  /** Session taint, when the policy configures it. */
  taint?: SessionTaint;
  /** Classes assumed when the taint store cannot be read (the fail-closed classes). */
  failClosed: readonly string[];
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

export function compilePolicy(policy: Policy, version: string, catalog: ModelCatalog, live?: LiveStats, opts: CompileOptions = {}): CompiledPolicy {
  const detectors: DetectorSpec[] = [
    ...BUILT_IN_DETECTORS.filter((d) => !policy.disable_detectors.includes(d.name)),
    ...policy.detectors.map((d) => ({ name: d.name, tag: d.tag, pattern: new RegExp(d.pattern, 'g') })),
  ];
  const rules = policy.rules.map(compileRule);
  // Tags are case-insensitive everywhere: header, metadata, key defaults, detectors, tag rules and rule matches.
  const budgetMatchers = policy.budgets.map((b) => ({ budget: b, re: globRe(b.match) })); // compiled once, not per request
  const tagRules = new Map(Object.entries(policy.tags).map(([name, rule]) => [name.toLowerCase(), rule]));
  const failClosed = new Set(policy.detection.fail_closed.map((t) => t.toLowerCase()));
  const versions = new Map(detectors.map((d) => [d.name, detectorVersion(d)]));
  // Compile every pattern now, so the first request's scan is not the one that pays for it (and overruns the budget).
  const warmUp = 'warm up a.b@example.com +1 555 010 0199 sk-x';
  guardedScan(() => ({ findings: (opts.scanner ?? scan)(warmUp, detectors) }), detectors, { budgetMs: Infinity, failClosed: new Set() });
  // Classes a decision can act on: the ones worth remembering for a session.
  const known = new Set<string>([
    ...tagRules.keys(),
    ...detectors.map((d) => d.tag.toLowerCase()),
    ...failClosed,
    ...policy.rules.flatMap((r) => (r.match.tags ?? []).map((t) => t.toLowerCase())),
  ]);
  // Headers rules match on: recorded (values only for these names) so a replay can match them again.
  const ruleHeaders = [...new Set(policy.rules.flatMap((r) => Object.keys(r.match.headers ?? {}).map((h) => h.toLowerCase())))];
  // Likewise only the metadata fields rules match on: metadata values can carry content, and records never do.
  const ruleMetadata = [...new Set(policy.rules.flatMap((r) => Object.keys(r.match.metadata ?? {})))];
  const taint = policy.taint ? new SessionTaint(policy.taint, opts.counters ?? new MemoryCounterStore(), [...known]) : undefined;
  const affinity = new PrefixAffinity(); // where each prompt prefix was sent, for `balance: prefix_affinity` pools

  /** Step 1: the request's data classes, from key defaults, the tags header, metadata and content detectors. */
  const tagsOf = (input: RouteInput) => {
    const tags = new Set<string>(input.principal.defaultTags.map((t) => t.toLowerCase()));
    const add = (list: string | null | undefined) => {
      for (const t of (list ?? '').split(',')) if (t.trim()) tags.add(t.trim().toLowerCase());
    };
    add(input.headers.get('x-switchyard-tags'));
    add(input.request.metadata?.['tags']);
    const scanner = opts.scanner;
    // Tests pass a scanner over the joined text (to make detection fail); requests scan string by string, once.
    const scanned = guardedScan(
      () =>
        scanner
          ? { findings: scanner(requestText(input.request.body), detectors), perString: undefined }
          : scanRequest(input.request.body, detectors),
      detectors,
      { budgetMs: policy.detection.budget_ms, failClosed },
    );
    for (const f of scanned.findings) tags.add(f.tag);
    for (const t of scanned.failedClosed) tags.add(t);
    return {
      tags,
      detected: [...new Set(scanned.findings.map((f) => f.detector))],
      failedClosed: scanned.failedClosed,
      failure: scanned.failure,
      scanned: scanned.result?.perString,
    };
  };

  /** Step 2: the matched rule's destinations, canary split and pools expanded, edge overflow applied. */
  const routeOf = (rule: PolicyRule, input: RouteInput, serving: readonly RouteCandidate[], trace: string[], lv: LiveView): RouteCandidate[] => {
    let route = rule.route;
    if (rule.split) {
      const total = rule.split.reduce((a, b) => a + b.weight, 0);
      let b = bucket(`${rule.id}:${input.principal.keyId}`, total);
      const branch = rule.split.find((x) => (b -= x.weight) < 0) ?? rule.split[rule.split.length - 1];
      route = branch?.route;
      trace.push(`split: branch of weight ${branch?.weight}/${total} (sticky per key)`);
    }
    let candidates = toCandidates(expandPools(route ?? [], input, trace, lv), serving);
    const ov = rule.overflow;
    if (ov) {
      const waits = candidates.filter((c) => c.zone === 'device').map((c) => lv.load(c.upstream).queueWaitMs ?? 0);
      if (waits.length > 0 && Math.min(...waits) > ov.queue_wait_ms) {
        const front = toCandidates(ov.to, serving);
        candidates = [...front, ...candidates.filter((c) => !front.some((f) => f.upstream === c.upstream))];
        trace.push(`overflow: edge queue wait ${Math.min(...waits)} ms > ${ov.queue_wait_ms} ms`);
      }
    }
    return candidates;
  };

  /** Pools expand to their members, best first: fewest requests in flight, or the upstream's own reported load. */
  const expandPools = (dests: readonly Destination[], input: RouteInput, trace: string[], lv: LiveView): string[] =>
    dests.flatMap((d) => {
      if (typeof d === 'string') return [d];
      if (d.balance === 'prefix_affinity') {
        // Load as the live view saw it, so a replay reads the recorded figures.
        const choice = affinity.choose(d.pool, input.request.body, (id) => {
          const u = catalog.upstream(id);
          return u ? lv.load(u) : undefined;
        });
        trace.push(choice.reason);
        return choice.order;
      }
      const score = (id: string) => {
        const u = catalog.upstream(id);
        const l = u ? lv.load(u) : undefined;
        if (!l) return Infinity;
        return d.balance === 'reported_load' && l.queueDepth !== undefined
          ? l.queueDepth * 1000 + (1 - (l.kvFreeFraction ?? 1)) * 100 + l.inFlight
          : l.inFlight;
      };
      return [...d.pool].sort((a, b) => score(a) - score(b));
    });

  /** Step 3: reorder (or reject) by latency budget, predicted from live windows (first byte p95, per-token p50). */
  const applyLatencyBudget = (rule: PolicyRule, input: RouteInput, candidates: RouteCandidate[], trace: string[], lv: LiveView): RouteCandidate[] => {
    const lb = rule.latency_budget_ms;
    if (!lb || (!lb.ttft && !lb.total)) return candidates;
    const maxOut = input.request.tokens.output;
    const misses = (c: RouteCandidate): string | undefined => {
      const first = lb.ttft ? lv.firstByteP95(c.upstream.id) : undefined;
      if (lb.ttft && first !== undefined && first > lb.ttft) return `${c.upstream.id} (first byte p95 ${Math.round(first)} ms)`;
      const total = lb.total ? lv.predictTotalMs(c.upstream.id, maxOut) : undefined;
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

  /**
   * Step 4, privacy: every class's zones must admit a candidate's zone (core/zones.ts `mayReach`), and `cloud`
   * allowlists intersect. A class that is to be redacted but whose detection failed cannot be redacted: it stays on the
   * device. Returns the zone limits the rest of the request (dispatch, cascade, cache) obeys.
   */
  const applyPrivacy = (tags: ReadonlySet<string>, candidates: readonly RouteCandidate[], trace: string[], failed: ReadonlySet<string>) => {
    const limits: ZoneLimit[] = [];
    let redactIt = false;
    let reversible = false;
    let allowed = [...candidates];
    for (const t of tags) {
      const tr = tagRules.get(t);
      if (!tr) continue;
      if ('zones' in tr) {
        limits.push({ dataClass: t, zones: tr.zones });
        const list = tr.upstreams;
        if (list) allowed = allowed.filter((c) => c.zone === 'device' || list.includes(c.upstream.id));
      } else if (tr.route === 'edge-only') limits.push({ dataClass: t, zones: ['device'] });
      else if (tr.route === 'redact') {
        if (failed.has(t)) limits.push({ dataClass: t, zones: ['device'] });
        else {
          redactIt = true;
          reversible ||= tr.reversible;
        }
      } else allowed = allowed.filter((c) => c.zone === 'device' || tr.upstreams.includes(c.upstream.id));
    }
    // A candidate's zone is its upstream's: a decision cannot relabel where a call goes.
    allowed = allowed.filter((c) => c.zone === c.upstream.zone && mayReach(limits, c.upstream.zone));
    const edgeOnly = limits.length > 0 && WIDER_ZONES.every((z) => !mayReach(limits, z)) && !limitsAdmitAnyRegion(limits);
    if (limits.length) trace.push(`zones: ${limits.map((l) => `${l.dataClass} -> ${l.zones.join('|')}`).join(', ')}`);
    return { candidates: allowed, edgeOnly, redactIt, reversible, limits };
  };

  /** Step 5: per-request caps and the budgets that apply to this key/tenant; downgrade targets obey privacy too. */
  const costRulesOf = (
    rule: PolicyRule | undefined,
    input: RouteInput,
    permitted: (c: RouteCandidate) => boolean,
    serving: readonly RouteCandidate[],
  ): CostRules | undefined => {
    const allowed = (ids: readonly string[]) => toCandidates(ids, serving).filter(permitted);
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
    failed: ReadonlySet<string>,
  ): CascadePlan | undefined => {
    const first = c.edge
      ? applyPrivacy(tags, catalog.candidates(c.edge).map(asCandidate), [], failed).candidates.filter((x) => x.zone === 'device')
      : allowed.filter((x) => x.zone === 'device');
    if (first.length === 0) {
      trace.push('cascade: no edge destination serves the request: skipped');
      return undefined;
    }
    const serving = catalog.candidates(input.request.model).map(asCandidate);
    const escalate = applyPrivacy(tags, toCandidates(c.escalate_to, serving), [], failed).candidates;
    trace.push(
      `cascade: ${first[0]?.upstream.id} first (${c.check} >= ${c.threshold}), else ${escalate.map((x) => x.upstream.id).join(' -> ') || '(nothing allowed: keep)'}`,
    );
    return { first, escalate, check: c.check, threshold: c.threshold };
  };

  return {
    version,
    tags: tagsOf,
    taint,
    failClosed: [...failClosed],
    decide(input, opts = {}) {
      const trace: string[] = [`policy ${version}`];
      const lv = opts.live ?? recordingView(live);
      const found = opts.tags
        ? { tags: new Set(opts.tags), detected: [] as string[], failedClosed: [] as string[], failure: undefined, scanned: undefined }
        : tagsOf(input);
      const { tags, detected, scanned } = found;
      if (found.failure) trace.push(`detection failed closed (${found.failure}): ${found.failedClosed.join(', ') || 'no class configured'}`);
      if (detected.length) trace.push(`detected: ${detected.join(', ')}`);
      const tainted = (opts.tainted ?? []).filter((t) => !tags.has(t));
      for (const t of tainted) tags.add(t);
      if (tainted.length) trace.push(`session taint: ${tainted.join(', ')}`);
      trace.push(`tags: ${[...tags].join(', ') || '(none)'}`);
      const failed = new Set(found.failedClosed);
      const model = input.request.model;
      const serving = catalog.candidates(model).map(asCandidate);
      if (serving.length === 0) throw errors.modelNotFound(model);
      const hit = rules.find((r) => r.test(input, tags))?.rule;
      let routed: RouteCandidate[];
      if (hit) {
        trace.push(`rule '${hit.id}' matched`);
        routed = applyLatencyBudget(hit, input, routeOf(hit, input, serving, trace, lv), trace, lv);
      } else {
        trace.push('no rule matched: every upstream serving the model, in configuration order');
        routed = serving;
      }
      const { candidates, edgeOnly, redactIt, reversible, limits } = applyPrivacy(tags, routed, trace, failed);
      trace.push(`candidates: ${candidates.map((c) => c.upstream.id).join(' -> ') || '(none)'}`);
      if (candidates.length === 0) {
        const classes = [...new Set(routed.flatMap((c) => forbiddingClasses(limits, c.upstream.zone)))];
        if (routed.length > 0 && classes.length > 0)
          throw noAllowedZone(classes, limits, model, {
            tags: [...tags],
            ruleId: hit?.id ?? 'default',
            policyVersion: version,
            zoneLimits: limits,
            audit: auditOf([]),
          });
        throw errors.invalid(
          `No destination allowed by policy ${version} can serve '${model}' for this request (tags: ${[...tags].join(', ') || 'none'}).`,
          'model',
          'no_allowed_destination',
        );
      }
      const permitted = (c: RouteCandidate) => c.zone === c.upstream.zone && mayReach(limits, c.upstream.zone) && (!edgeOnly || c.zone === 'device');
      const cascade = hit?.cascade ? cascadePlan(hit.cascade, input, candidates, tags, trace, failed) : undefined;
      const budget = hit?.latency_budget_ms?.total;
      const masks = redactIt && !edgeOnly && detected.length ? (reversible ? new Map<string, string>() : undefined) : undefined;
      return {
        candidates,
        edgeOnly,
        ...(limits.length ? { zoneLimits: limits } : {}),
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
        cost: costRulesOf(hit, input, permitted, serving),
        cascade,
        ...(redactIt && !edgeOnly && detected.length ? { body: redactBody(input.request.body, detectors, masks, scanned), unmask: masks } : {}),
        audit: auditOf(candidates),
        trace,
      };
      function auditOf(route: readonly RouteCandidate[]): DecisionAudit {
        return {
          detectors: detected.map((id) => ({ id, version: versions.get(id) ?? 'unknown' })),
          failedClosed: found.failedClosed,
          tainted,
          route: route.map((c) => c.upstream.id),
          inputs: {
            bytes: input.request.bytes,
            output_tokens: input.request.tokens.output,
            temperature: input.request.temperature ?? null,
            metadata: Object.fromEntries(ruleMetadata.flatMap((k) => ((v) => (typeof v === 'string' ? [[k, v]] : []))(input.request.metadata?.[k]))),
            headers: Object.fromEntries(ruleHeaders.flatMap((h) => ((v) => (v === null ? [] : [[h, v]]))(input.headers.get(h)))),
          },
          live: lv.snapshot,
        };
      }
    },
  };
}

/** Zones wider than the device, to tell whether a set of limits keeps the data on the device. */
const WIDER_ZONES: readonly Zone[] = ['on-prem', 'cloud'];
const limitsAdmitAnyRegion = (limits: readonly ZoneLimit[]) =>
  [...new Set(limits.flatMap((l) => l.zones.filter((z) => z.startsWith('region:')).map((z) => (z === 'region:*' ? 'region:x' : z))))].some((z) =>
    mayReach(limits, z as Zone),
  );

/** Destination ids -> the candidates that serve the model, in the given order. */
function toCandidates(ids: readonly string[], serving: readonly RouteCandidate[]): RouteCandidate[] {
  return ids.flatMap((id) => serving.filter((c) => c.upstream.id === id));
}
