/** The policy file (version 1), validated with zod. Documented field by field in policies/README.md. */
import { z } from 'zod';
import { zonePatternSchema } from '../core/zones.js';
import { headerMapSchema, headerNameSchema } from '../core/header-name.js';

/**
 * Measured by `npm run bench:semantic-cache` (false hits <= 1% on its paraphrase workload); docs/ARCHITECTURE.md,
 * "Edge embeddings and the semantic cache".
 */
export const DEFAULT_SEMANTIC_THRESHOLD = 0.9;

const globs = z.array(z.string().min(1)).min(1);

/** An upstream id, or a pool of them balanced by load. */
const destination = z.union([
  z.string().min(1),
  z.strictObject({
    pool: z.array(z.string().min(1)).min(1),
    balance: z.enum(['least_outstanding', 'reported_load', 'prefix_affinity']).default('least_outstanding'),
  }),
]);

const routedTagRule = z.discriminatedUnion('route', [
  /** Same as `zones: [device]`. */
  z.strictObject({ route: z.literal('edge-only') }),
  z.strictObject({ route: z.literal('cloud'), upstreams: z.array(z.string().min(1)).min(1) }),
  /** reversible: the gateway keeps the original spans for this request and puts them back into the answer. */
  z.strictObject({ route: z.literal('redact'), reversible: z.boolean().default(false) }),
]);

/** A data class and the egress zones it may reach (core/zones.ts); optionally only these upstreams outside `device`. */
const zonedTagRule = z.strictObject({
  zones: z.array(zonePatternSchema).min(1),
  upstreams: z.array(z.string().min(1)).min(1).optional(),
});

export type TagRule = z.infer<typeof routedTagRule> | z.infer<typeof zonedTagRule>;

/** Either form, chosen by its keys, so an error names the exact field (`tags.pii.zones[1]: unknown zone 'moon'`). */
export const tagRuleSchema = z.unknown().transform((v, ctx): TagRule => {
  const zoned = v !== null && typeof v === 'object' && !Array.isArray(v) && 'zones' in v;
  const r = (zoned ? zonedTagRule : routedTagRule).safeParse(v);
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

/** Session taint: a conversation that carried a tagged message keeps its tags for `ttl_seconds`. */
export const taintSchema = z.strictObject({
  ttl_seconds: z.number().int().positive(),
  /**
   * Which conversation keys identify a session: the OpenAI `user` field, the session header, or a hash of the
   * leading messages (system messages and the first user message, which every later turn repeats). Every available
   * key is tainted and checked.
   */
  key: z
    .array(z.enum(['user', 'header', 'messages']))
    .min(1)
    .default(['user', 'header', 'messages']),
  header: headerNameSchema.default('x-switchyard-session'),
});

/**
 * Detectors that throw or run over `budget_ms` count as having found each of these classes (fail closed). The
 * default budget only catches gross overruns (a pathological custom pattern, a stalled process): a GC pause must not
 * move ordinary traffic.
 */
export const detectionSchema = z.strictObject({
  budget_ms: z.number().positive().default(1000),
  fail_closed: z.array(z.string().min(1)).default(['pii', 'secret']),
});

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    match: z
      .strictObject({
        models: globs.optional(),
        tenants: globs.optional(),
        keys: globs.optional(),
        tags: z.array(z.string().min(1)).min(1).optional(),
        metadata: z.record(z.string(), z.string()).optional(),
        headers: headerMapSchema.optional(),
        max_bytes: z.number().int().positive().optional(),
        min_bytes: z.number().int().nonnegative().optional(),
      })
      .default({}),
    /** Upstream ids (or pools) in order of preference; only those serving the model are used. */
    route: z.array(destination).min(1).optional(),
    /** Weighted split between routes (canary), sticky per key; replaces `route`. */
    split: z
      .array(z.strictObject({ weight: z.number().int().positive(), route: z.array(destination).min(1) }))
      .min(1)
      .optional(),
    /** Edge as baseline: when an edge destination predicts a queue wait above this, these go first (where privacy allows). */
    overflow: z.strictObject({ queue_wait_ms: z.number().int().nonnegative(), to: z.array(z.string().min(1)).min(1) }).optional(),
    cache: z
      .strictObject({
        enabled: z.boolean(),
        ttl_seconds: z.number().int().positive().default(300),
        /** Answer near-identical requests (edge embeddings within `threshold` cosine) from the cache; see gateway/semantic-cache. */
        semantic: z
          .strictObject({
            embedding_model: z.string().min(1),
            threshold: z.number().gt(0).lte(1).default(DEFAULT_SEMANTIC_THRESHOLD),
            tagged: z.boolean().default(false),
          })
          .optional(),
      })
      .optional(),
    hedge: z.boolean().optional(),
    /** Per-request cost cap (estimated before sending from prompt size and max_tokens). */
    cost: z
      .strictObject({
        max_request_usd: z.number().positive().optional(),
        /** A fallback never goes to a destination that costs money (edge at edge_per_m 0 stays allowed). */
        no_paid_fallback: z.boolean().default(false),
        on_exceed: z.enum(['downgrade', 'reject']).default('reject'),
        /** Where a downgraded request goes (e.g. the edge, or a cheaper model's upstream). */
        downgrade_to: z.array(z.string().min(1)).min(1).optional(),
      })
      .optional(),
    /**
     * Edge-first cascade: the edge answers first; its answer is scored (mean token log-probability, or the edge's own
     * yes/no self check) and kept at or above `threshold`, else the request goes to `escalate_to` (never beyond the
     * zones its data class may reach).
     */
    cascade: z
      .strictObject({
        /** Edge model to answer first (default: the requested model on an edge destination). */
        edge: z.string().min(1).optional(),
        check: z.enum(['logprob', 'self_check']).default('logprob'),
        /** logprob: mean log-probability per token (<= 0); self_check: probability of "yes" (0..1). */
        threshold: z.number(),
        escalate_to: z.array(z.string().min(1)).min(1),
      })
      .optional(),
    latency_budget_ms: z
      .strictObject({
        total: z.number().int().positive().optional(),
        /** Time to first byte: destinations whose observed p95 misses it are tried last, or refused (on_miss: reject). */
        ttft: z.number().int().positive().optional(),
        on_miss: z.enum(['best_effort', 'reject']).default('best_effort'),
      })
      .optional(),
  })
  .refine((r) => (r.route === undefined) !== (r.split === undefined), { message: 'a rule needs exactly one of route or split', path: ['route'] });

/** A custom detector's pattern must compile as the detector uses it (flag g); the issue names the field. */
const detectorPattern = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern, 'g');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  detectors: z.array(z.strictObject({ name: z.string().regex(/^[a-z0-9_]+$/), pattern: detectorPattern.min(1), tag: z.string().min(1) })).default([]),
  /** Built-in detectors to turn off by name. */
  disable_detectors: z.array(z.string()).default([]),
  tags: z.record(z.string(), tagRuleSchema).default({}),
  taint: taintSchema.optional(),
  detection: detectionSchema.default(() => detectionSchema.parse({})),
  rules: z.array(ruleSchema).default([]),
  /** Spend limits over UTC day and month windows, atomic across replicas (Redis) or in memory. */
  budgets: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
        scope: z.enum(['key', 'tenant']),
        /** Glob on the key id or tenant name; each matching key/tenant has its own counters. */
        match: z.string().min(1).default('*'),
        day_usd: z.number().positive().optional(),
        month_usd: z.number().positive().optional(),
      }),
    )
    .default([]),
  /** Over a budget: refuse (429 budget_exceeded) or send to these (cheaper) upstreams instead. */
  on_budget_exceeded: z
    .strictObject({ action: z.enum(['reject', 'downgrade']), downgrade_to: z.array(z.string().min(1)).optional() })
    .default({ action: 'reject' }),
});

export type Policy = z.infer<typeof policySchema>;

/**
 * The policy schema plus a check that every destination it names is a configured upstream, so an unknown upstream is
 * reported like any other field error: `file:line: rules[2].route[0]: unknown upstream 'cloud-c'`.
 */
export function policySchemaFor(isUpstream: (id: string) => boolean) {
  return policySchema.superRefine((p, ctx) => {
    const check = (id: string, path: Array<string | number>) => {
      if (!isUpstream(id)) ctx.addIssue({ code: 'custom', path, message: `unknown upstream '${id}'` });
    };
    const destinations = (dests: ReadonlyArray<string | { pool: string[] }>, path: Array<string | number>) =>
      dests.forEach((d, j) => (typeof d === 'string' ? check(d, [...path, j]) : d.pool.forEach((id, k) => check(id, [...path, j, 'pool', k]))));
    p.rules.forEach((r, i) => {
      destinations(r.route ?? [], ['rules', i, 'route']);
      r.split?.forEach((s, k) => destinations(s.route, ['rules', i, 'split', k, 'route']));
      r.overflow?.to.forEach((id, j) => check(id, ['rules', i, 'overflow', 'to', j]));
      r.cost?.downgrade_to?.forEach((id, j) => check(id, ['rules', i, 'cost', 'downgrade_to', j]));
    });
    for (const [tag, t] of Object.entries(p.tags)) if ('upstreams' in t) t.upstreams?.forEach((id, j) => check(id, ['tags', tag, 'upstreams', j]));
    p.on_budget_exceeded.downgrade_to?.forEach((id, j) => check(id, ['on_budget_exceeded', 'downgrade_to', j]));
  });
}
export type PolicyRule = z.infer<typeof ruleSchema>;
