/** The policy file (version 1), validated with zod. Documented field by field in policies/README.md. */
import { z } from 'zod';

const globs = z.array(z.string().min(1)).min(1);

export const tagRuleSchema = z.discriminatedUnion('route', [
  z.strictObject({ route: z.literal('edge-only') }),
  z.strictObject({ route: z.literal('cloud'), upstreams: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ route: z.literal('redact') }),
]);

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  match: z.strictObject({
    models: globs.optional(),
    tenants: globs.optional(),
    keys: globs.optional(),
    tags: z.array(z.string().min(1)).min(1).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    max_bytes: z.number().int().positive().optional(),
    min_bytes: z.number().int().nonnegative().optional(),
  }).default({}),
  /** Upstream ids in order of preference; only those serving the model are used. */
  route: z.array(z.string().min(1)).min(1),
  cache: z.strictObject({ enabled: z.boolean(), ttl_seconds: z.number().int().positive().default(300) }).optional(),
  hedge: z.boolean().optional(),
  latency_budget_ms: z.strictObject({ total: z.number().int().positive() }).optional(),
});

export const policySchema = z.strictObject({
  version: z.literal(1),
  detectors: z.array(z.strictObject({ name: z.string().regex(/^[a-z0-9_]+$/), pattern: z.string().min(1), tag: z.string().min(1) })).default([]),
  /** Built-in detectors to turn off by name. */
  disable_detectors: z.array(z.string()).default([]),
  tags: z.record(z.string(), tagRuleSchema).default({}),
  rules: z.array(ruleSchema).default([]),
});

export type Policy = z.infer<typeof policySchema>;
export type PolicyRule = z.infer<typeof ruleSchema>;
