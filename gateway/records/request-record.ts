/** One record per request: what happened, what it cost, and what the all-cloud route would have cost. Never content. */
import { z } from 'zod';
import type { RequestContext } from '../core/request-context.js';
import type { PricesConfig } from './records-config.js';
import { isSelfHosted } from '../core/zones.js';
import { headerMapSchema } from '../core/header-name.js';

/** A zone as recorded: `edge` in records written before the zone vocabulary reads as `device`. */
const recordedZone = z.string().transform((s) => (s === 'edge' ? 'device' : s));

const liveSnapshotSchema = z.object({
  firstByteP95: z.record(z.string(), z.number().nullable()),
  predictedTotalMs: z.record(z.string(), z.number().nullable()),
  load: z.record(
    z.string(),
    z.object({ inFlight: z.number(), queueDepth: z.number().optional(), kvFreeFraction: z.number().optional(), queueWaitMs: z.number().optional() }),
  ),
});

/**
 * The decision as taken, and the inputs it read, so `switchyard audit` can answer from records alone and
 * `switchyard policies replay` can decide again. Absent in records written before decision audit existed.
 */
export const decisionRecordSchema = z.object({
  policy_version: z.string().nullable(),
  /** Detectors that found something (id and version); classes assumed by fail-closed detection; classes from taint. */
  detectors: z.array(z.object({ id: z.string(), version: z.string() })),
  failed_closed: z.array(z.string()),
  tainted: z.array(z.string()),
  /** Zones each limiting data class may reach. */
  zone_limits: z.array(z.object({ class: z.string(), zones: z.array(z.string()) })),
  /** The router's candidates in order, the destinations skipped for open breakers, every upstream actually called. */
  route: z.array(z.string()),
  breakers_open: z.array(z.string()),
  tried: z.array(z.object({ upstream: z.string(), zone: recordedZone.nullable() })),
  /** What rules match on (no content): request size, output tokens, temperature, metadata, headers rules name. */
  inputs: z.object({
    bytes: z.number(),
    output_tokens: z.number(),
    temperature: z.number().nullable(),
    metadata: z.record(z.string(), z.string()),
    // Replay rebuilds a Headers from these: a name Headers refuses makes the record malformed (counted), not a crash.
    headers: headerMapSchema,
  }),
  live: liveSnapshotSchema,
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;

export const requestRecordSchema = z.object({
  id: z.string(),
  time: z.number(),
  key_id: z.string(),
  tenant: z.string(),
  endpoint: z.string(),
  front: z.string().optional(),
  model: z.string(),
  served_model: z.string().nullable(),
  destination: z.string().nullable(),
  zone: recordedZone.nullable(),
  rule: z.string().nullable(),
  tags: z.array(z.string()),
  cache: z.enum(['hit', 'miss', 'bypass']).nullable(),
  status: z.number(),
  error: z.string().nullable(),
  stream: z.boolean(),
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  cost_usd: z.number(),
  all_cloud_cost_usd: z.number(),
  ttft_ms: z.number().nullable(),
  latency_ms: z.number(),
  attempts: z.number(),
  /** Edge-first cascade outcome and score (absent in records written before cascades existed). */
  cascade: z.enum(['kept', 'escalated']).nullable().optional(),
  cascade_score: z.number().nullable().optional(),
  decision: decisionRecordSchema.optional(),
});

export type RequestRecord = z.infer<typeof requestRecordSchema>;

/** The cloud price of a model: by the client-facing name, else by the name sent upstream (aliases such as `fast`). */
export function priceOf(prices: PricesConfig, model: string, servedModel?: string): PricesConfig['models'][string] | undefined {
  return prices.models[model] ?? (servedModel !== undefined ? prices.models[servedModel] : undefined);
}

export function costOf(
  prices: PricesConfig,
  model: string,
  zone: string | null,
  prompt: number,
  completion: number,
  servedModel?: string,
): { cost: number; allCloud: number } {
  const p = priceOf(prices, model, servedModel);
  const cloud = p ? (prompt * p.input_per_m + completion * p.output_per_m) / 1e6 : 0;
  // Self-hosted zones (device, on-prem) cost the edge rate; named regions and cloud the model's price.
  const cost = isSelfHosted(zone) ? ((prompt + completion) * prices.edge_per_m) / 1e6 : cloud;
  return { cost, allCloud: cloud };
}

/** Cloud models with no price: their cost and savings would read $0, so the operator is told at start. */
export function unpricedCloudModels(
  upstreams: ReadonlyArray<{ id: string; zone: string; models: ReadonlyArray<{ id: string; upstreamModel: string }> }>,
  prices: PricesConfig,
): Array<{ upstream: string; model: string }> {
  return upstreams
    .filter((u) => !isSelfHosted(u.zone))
    .flatMap((u) => u.models.filter((m) => !priceOf(prices, m.id, m.upstreamModel)).map((m) => ({ upstream: u.id, model: m.id })));
}

export function toRecord(ctx: RequestContext, zoneOf: (upstream: string) => string | null, prices: PricesConfig): RequestRecord {
  const prompt = ctx.usage?.prompt_tokens ?? 0;
  const completion = ctx.usage?.completion_tokens ?? 0;
  // A cache hit is attributed to the destination that produced the answer; it costs nothing this time, so the
  // whole all-cloud price of the answer is saved.
  const hit = ctx.cache === 'hit';
  const destination = hit ? ctx.cachedFrom?.upstream : ctx.upstream;
  const servedModel = hit ? ctx.cachedFrom?.upstreamModel : ctx.upstreamModel;
  const zone = destination ? zoneOf(destination) : null;
  const { cost, allCloud } = costOf(prices, ctx.model, zone, prompt, completion, servedModel);
  return {
    id: ctx.id,
    time: ctx.startedAt,
    key_id: ctx.principal.keyId,
    tenant: ctx.principal.tenant,
    endpoint: ctx.endpoint,
    front: ctx.front ?? 'chat',
    model: ctx.model,
    served_model: servedModel ?? null,
    destination: destination ?? null,
    zone,
    rule: ctx.ruleId ?? null,
    tags: [...(ctx.tags ?? [])],
    cache: ctx.cache ?? null,
    status: ctx.status,
    error: ctx.errorCode ?? null,
    stream: ctx.stream,
    prompt_tokens: prompt,
    completion_tokens: completion,
    cost_usd: hit ? 0 : cost * (ctx.priceFactor ?? 1),
    all_cloud_cost_usd: allCloud,
    ttft_ms: ctx.ttftMs ?? null,
    latency_ms: ctx.totalMs ?? 0,
    attempts: ctx.attempts,
    cascade: ctx.cascade ?? null,
    cascade_score: ctx.cascadeScore !== undefined && Number.isFinite(ctx.cascadeScore) ? ctx.cascadeScore : null,
    ...(ctx.policyVersion !== undefined ? { decision: decisionOf(ctx, zoneOf) } : {}),
  };
}

function decisionOf(ctx: RequestContext, zoneOf: (upstream: string) => string | null): DecisionRecord {
  const a = ctx.decisionAudit;
  const inputs = a?.inputs;
  return {
    policy_version: ctx.policyVersion ?? null,
    detectors: [...(a?.detectors ?? [])],
    failed_closed: [...(a?.failedClosed ?? [])],
    tainted: [...(a?.tainted ?? [])],
    zone_limits: (ctx.zoneLimits ?? []).map((l) => ({ class: l.dataClass, zones: [...l.zones] })),
    route: [...(a?.route ?? [])],
    breakers_open: [...(ctx.breakersOpen ?? [])],
    tried: (ctx.tried ?? []).map((u) => ({ upstream: u, zone: zoneOf(u) })),
    inputs: inputs ?? { bytes: 0, output_tokens: 0, temperature: null, metadata: {}, headers: {} },
    live: a?.live ?? { firstByteP95: {}, predictedTotalMs: {}, load: {} },
  };
}
