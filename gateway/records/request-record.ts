/** One record per request: what happened, what it cost, and what the all-cloud route would have cost. Never content. */
import { z } from 'zod';
import type { RequestContext } from '../core/request-context.js';
import type { PricesConfig } from './records-config.js';

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
  zone: z.enum(['edge', 'cloud']).nullable(),
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
});

export type RequestRecord = z.infer<typeof requestRecordSchema>;

/** The cloud price of a model: by the client-facing name, else by the name sent upstream (aliases such as `fast`). */
export function priceOf(prices: PricesConfig, model: string, servedModel?: string): PricesConfig['models'][string] | undefined {
  return prices.models[model] ?? (servedModel !== undefined ? prices.models[servedModel] : undefined);
}

export function costOf(
  prices: PricesConfig,
  model: string,
  zone: 'edge' | 'cloud' | null,
  prompt: number,
  completion: number,
  servedModel?: string,
): { cost: number; allCloud: number } {
  const p = priceOf(prices, model, servedModel);
  const cloud = p ? (prompt * p.input_per_m + completion * p.output_per_m) / 1e6 : 0;
  const cost = zone === 'edge' ? ((prompt + completion) * prices.edge_per_m) / 1e6 : cloud;
  return { cost, allCloud: cloud };
}

/** Cloud models with no price: their cost and savings would read $0, so the operator is told at start. */
export function unpricedCloudModels(
  upstreams: ReadonlyArray<{ id: string; zone: 'edge' | 'cloud'; models: ReadonlyArray<{ id: string; upstreamModel: string }> }>,
  prices: PricesConfig,
): Array<{ upstream: string; model: string }> {
  return upstreams
    .filter((u) => u.zone === 'cloud')
    .flatMap((u) => u.models.filter((m) => !priceOf(prices, m.id, m.upstreamModel)).map((m) => ({ upstream: u.id, model: m.id })));
}

export function toRecord(ctx: RequestContext, zoneOf: (upstream: string) => 'edge' | 'cloud' | null, prices: PricesConfig): RequestRecord {
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
  };
}
