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
});

export type RequestRecord = z.infer<typeof requestRecordSchema>;

export function costOf(
  prices: PricesConfig,
  model: string,
  zone: 'edge' | 'cloud' | null,
  prompt: number,
  completion: number,
): { cost: number; allCloud: number } {
  const p = prices.models[model];
  const cloud = p ? (prompt * p.input_per_m + completion * p.output_per_m) / 1e6 : 0;
  const cost = zone === 'edge' ? ((prompt + completion) * prices.edge_per_m) / 1e6 : cloud;
  return { cost, allCloud: cloud };
}

export function toRecord(ctx: RequestContext, zoneOf: (upstream: string) => 'edge' | 'cloud' | null, prices: PricesConfig): RequestRecord {
  const prompt = ctx.usage?.prompt_tokens ?? 0;
  const completion = ctx.usage?.completion_tokens ?? 0;
  const zone = ctx.upstream ? zoneOf(ctx.upstream) : null;
  const { cost, allCloud } = costOf(prices, ctx.model, zone, prompt, completion);
  return {
    id: ctx.id,
    time: ctx.startedAt,
    key_id: ctx.principal.keyId,
    tenant: ctx.principal.tenant,
    endpoint: ctx.endpoint,
    front: ctx.front ?? 'chat',
    model: ctx.model,
    served_model: ctx.upstreamModel ?? null,
    destination: ctx.upstream ?? null,
    zone,
    rule: ctx.ruleId ?? null,
    tags: [...(ctx.tags ?? [])],
    cache: ctx.cache ?? null,
    status: ctx.status,
    error: ctx.errorCode ?? null,
    stream: ctx.stream,
    prompt_tokens: prompt,
    completion_tokens: completion,
    cost_usd: cost,
    all_cloud_cost_usd: allCloud,
    ttft_ms: ctx.ttftMs ?? null,
    latency_ms: ctx.totalMs ?? 0,
    attempts: ctx.attempts,
  };
}
