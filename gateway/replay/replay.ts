/**
 * Policy replay: decide recorded traffic again under a candidate policy, from records alone (no content: the recorded
 * data classes stand in for the detectors, the recorded live numbers for the live state), and say what would change:
 * routing mix, predicted cost and latency, and every request whose data class would reach a zone it did not before.
 * Under the policy that was live, every decision comes out exactly as recorded (tested).
 */
import type { Decision, RouteCandidate } from '../core/decision.js';
import { GatewayError } from '../core/errors.js';
import type { InferenceRequest } from '../core/inference-request.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { estimateTokens } from '../core/token-estimate.js';
import type { CompiledPolicy } from '../policy/compile-policy.js';
import { snapshotView } from '../policy/live-view.js';
import type { PricesConfig } from '../records/records-config.js';
import { costOf, type RequestRecord } from '../records/request-record.js';

export interface ReplayedRequest {
  id: string;
  rule: { before: string | null; after: string | null };
  route: { before: string[]; after: string[] };
  /** Where it went, and where the candidate policy would send it first (skipping breakers that were open). */
  destination: { before: string | null; after: string | null };
  /** The candidate policy refuses it (error code), or null. */
  refused: string | null;
  /** Data classes whose request would now be allowed into zones its recorded route never included. */
  newZones: string[];
  classes: string[];
}

export interface ReplayReport {
  policy: { before: string[]; after: string };
  records: number;
  /** Records with the decision fields replay needs (older records and requests refused before deciding are skipped). */
  replayed: number;
  skipped: number;
  /** Decisions (rule and ordered route) that come out the same / differently. */
  unchanged: number;
  changed: number;
  refused: Record<string, number>;
  mix: { before: Record<string, number>; after: Record<string, number> };
  cost_usd: { before: number; after: number };
  latency_ms: { before_mean: number | null; after_mean: number | null; unknown_after: number };
  /** Requests carrying a data class that the candidate policy would let into a new zone. */
  new_zones: Array<{ id: string; classes: string[]; zones: string[]; upstreams: string[] }>;
  /** Live values the candidate policy asked for that the records never read (they count as "no samples"). */
  missing_inputs: number;
  /** The first changed decisions, for reading. */
  examples: ReplayedRequest[];
}

export interface ReplayOptions {
  catalog: ModelCatalog;
  prices: PricesConfig;
  /** How many changed decisions to list. */
  examples?: number;
}

/** The request as far as rules can see it, rebuilt from the record (no content). */
function requestOf(r: RequestRecord): InferenceRequest {
  const inputs = r.decision!.inputs;
  const metadata = Object.keys(inputs.metadata).length ? inputs.metadata : undefined;
  return {
    endpoint: r.endpoint === 'completions' || r.endpoint === 'embeddings' ? r.endpoint : 'chat.completions',
    model: r.model,
    stream: r.stream,
    wantsStreamUsage: false,
    temperature: inputs.temperature ?? undefined,
    metadata,
    tokens: { ...estimateTokens(inputs.bytes, undefined), output: inputs.output_tokens },
    bytes: inputs.bytes,
    body: { model: r.model, ...(metadata ? { metadata } : {}) },
  };
}

/** One recorded request decided again under `policy`. */
export function replayOne(
  r: RequestRecord,
  policy: CompiledPolicy,
  catalog: ModelCatalog,
  missing?: (what: string) => void,
): { decision?: Decision; error?: GatewayError } {
  try {
    const decision = policy.decide(
      { request: requestOf(r), headers: new Headers(r.decision!.inputs.headers), principal: { keyId: r.key_id, tenant: r.tenant, defaultTags: [] } },
      { tags: r.tags, live: snapshotView(r.decision!.live, missing) },
    );
    return { decision };
  } catch (err) {
    if (err instanceof GatewayError) return { error: err };
    throw err;
  }
}

const firstUsable = (route: readonly RouteCandidate[], open: readonly string[]) => route.find((c) => !open.includes(c.upstream.id)) ?? route[0];

export function replay(records: readonly RequestRecord[], policy: CompiledPolicy, opts: ReplayOptions): ReplayReport {
  const { catalog, prices } = opts;
  const zoneOf = (id: string | null) => (id ? (catalog.upstream(id)?.zone ?? null) : null);
  const decided = records.filter((r) => r.decision?.policy_version);
  const report: ReplayReport = {
    policy: { before: [...new Set(decided.map((r) => r.decision!.policy_version!))], after: policy.version },
    records: records.length,
    replayed: decided.length,
    skipped: records.length - decided.length,
    unchanged: 0,
    changed: 0,
    refused: {},
    mix: { before: {}, after: {} },
    cost_usd: { before: 0, after: 0 },
    latency_ms: { before_mean: null, after_mean: null, unknown_after: 0 },
    new_zones: [],
    missing_inputs: 0,
    examples: [],
  };
  // Mean recorded latency per destination: the fallback prediction when the live snapshot has none.
  const seen = new Map<string, { n: number; ms: number }>();
  for (const r of decided)
    if (r.destination && r.status < 400) {
      const s = seen.get(r.destination) ?? { n: 0, ms: 0 };
      seen.set(r.destination, { n: s.n + 1, ms: s.ms + r.latency_ms });
    }
  let beforeMs = 0;
  let afterMs = 0;
  let afterN = 0;
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  for (const r of decided) {
    const d = r.decision!;
    const out = replayOne(r, policy, catalog, () => report.missing_inputs++);
    const after = out.decision;
    const routeAfter = after ? after.candidates.map((c) => c.upstream.id) : [];
    // A refusal replays as the same refusal; a decision as the same rule and ordered route.
    const same = after ? after.ruleId === r.rule && routeAfter.join(',') === d.route.join(',') : d.route.length === 0 && out.error?.code === r.error;
    if (same) report.unchanged++;
    else report.changed++;
    const refused = out.error ? out.error.code : null;
    if (refused) bump(report.refused, refused);
    // Same decision: the same outcome. Otherwise the first candidate whose breaker was not open.
    const first = after ? firstUsable(after.candidates, d.breakers_open) : undefined;
    const destAfter = same ? r.destination : (first?.upstream.id ?? null);
    bump(report.mix.before, r.destination ?? '(none)');
    bump(report.mix.after, destAfter ?? `(refused: ${refused ?? 'none'})`);
    report.cost_usd.before += r.cost_usd;
    beforeMs += r.latency_ms;
    if (same) {
      report.cost_usd.after += r.cost_usd;
      afterMs += r.latency_ms;
      afterN++;
    } else if (first && r.cache !== 'hit') {
      report.cost_usd.after += costOf(prices, r.model, first.zone, r.prompt_tokens, r.completion_tokens, first.upstreamModel).cost;
      const id = first.upstream.id;
      const s = seen.get(id);
      const predicted = d.live.predictedTotalMs[id] ?? d.live.firstByteP95[id] ?? (s ? s.ms / s.n : null);
      if (predicted === null || predicted === undefined) report.latency_ms.unknown_after++;
      else {
        afterMs += predicted;
        afterN++;
      }
    }
    // Privacy: any zone the new route could reach (fallbacks included) that the recorded route could not.
    const zonesBefore = new Set(d.route.map((id) => zoneOf(id)).filter((z) => z !== null));
    const fresh = after ? after.candidates.filter((c) => !zonesBefore.has(c.upstream.zone)) : [];
    if (r.tags.length > 0 && fresh.length > 0) {
      report.new_zones.push({
        id: r.id,
        classes: [...r.tags],
        zones: [...new Set(fresh.map((c) => c.upstream.zone))],
        upstreams: fresh.map((c) => c.upstream.id),
      });
    }
    if (!same && report.examples.length < (opts.examples ?? 20)) {
      report.examples.push({
        id: r.id,
        rule: { before: r.rule, after: after?.ruleId ?? null },
        route: { before: [...d.route], after: routeAfter },
        destination: { before: r.destination, after: destAfter },
        refused,
        newZones: [...new Set(fresh.map((c) => c.upstream.zone))],
        classes: [...r.tags],
      });
    }
  }
  report.latency_ms.before_mean = decided.length ? beforeMs / decided.length : null;
  report.latency_ms.after_mean = afterN ? afterMs / afterN : null;
  return report;
}

export function formatReplay(r: ReplayReport): string {
  const pct = (n: number) => (r.replayed ? `${((100 * n) / r.replayed).toFixed(1)}%` : '-');
  const lines = [
    `replay: ${r.replayed} of ${r.records} record(s) decided again under ${r.policy.after} (recorded under ${r.policy.before.join(', ') || '-'})`,
    `unchanged ${r.unchanged} (${pct(r.unchanged)}), changed ${r.changed} (${pct(r.changed)})` +
      (Object.keys(r.refused).length
        ? `, refused: ${Object.entries(r.refused)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`
        : ''),
    'routing mix (destination: before -> after):',
    ...[...new Set([...Object.keys(r.mix.before), ...Object.keys(r.mix.after)])].map(
      (k) => `  ${k}: ${r.mix.before[k] ?? 0} -> ${r.mix.after[k] ?? 0}`,
    ),
    `cost: $${r.cost_usd.before.toFixed(6)} -> $${r.cost_usd.after.toFixed(6)} (predicted)`,
    `latency mean: ${r.latency_ms.before_mean?.toFixed(1) ?? '-'} ms -> ${r.latency_ms.after_mean?.toFixed(1) ?? '-'} ms (predicted; ${r.latency_ms.unknown_after} unknown)`,
  ];
  if (r.missing_inputs)
    lines.push(`note: the candidate policy read ${r.missing_inputs} live value(s) the records never recorded (taken as no samples)`);
  if (r.skipped) lines.push(`note: ${r.skipped} record(s) without decision fields skipped`);
  lines.push(`NEW ZONES: ${r.new_zones.length} request(s) whose data class would reach a zone it did not before`);
  for (const n of r.new_zones.slice(0, 50)) lines.push(`  ${n.id} [${n.classes.join(', ')}] -> ${n.zones.join(', ')} via ${n.upstreams.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
