/** Config for virtual keys, tenants and the shared Redis: who may call, with which limits. */
import { z } from 'zod';

const limits = {
  /** Requests per minute. */
  rpm: z.number().int().positive().optional(),
  /** Tokens per minute (prompt estimate + max_tokens, reconciled with actual usage). */
  tpm: z.number().int().positive().optional(),
};

export const keySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only'),
  /** SHA-256 of the key, hex. The key itself is never stored (`switchyard keys create` prints both). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a 64-character lowercase hex SHA-256'),
  tenant: z.string().min(1).default('default'),
  /** Tags every request of this key carries. */
  tags: z.array(z.string().min(1)).default([]),
  /** Model names (or globs like `gpt-4o*`) this key may use. */
  models: z.array(z.string().min(1)).default(['*']),
  /** user: inference; admin: also /admin/* and reports. */
  role: z.enum(['user', 'admin']).default('user'),
  ...limits,
});

export const tenantSchema = z.strictObject({ ...limits });

const redisUrl = z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL');

/** One of three modes: a single node (`url`), a Cluster (`nodes`: seed URLs) or Sentinel (`sentinels` + master `name`). */
export const redisSchema = z
  .strictObject({
    url: redisUrl.optional(),
    nodes: z.array(redisUrl).min(1).optional(),
    sentinels: z.array(redisUrl).min(1).optional(),
    /** Sentinel: the monitored master's name. */
    name: z.string().min(1).optional(),
    key_prefix: z.string().default('switchyard:'),
    command_timeout_ms: z.number().int().positive().default(50),
  })
  .superRefine((r, ctx) => {
    const modes = (['url', 'nodes', 'sentinels'] as const).filter((m) => r[m] !== undefined);
    if (modes.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: modes.length ? [modes[1]!] : [],
        message: 'set exactly one of url (single node), nodes (Cluster) or sentinels (Sentinel)',
      });
    if (r.sentinels && !r.name) ctx.addIssue({ code: 'custom', path: ['name'], message: 'Sentinel needs the master name' });
    if (r.name && !r.sentinels) ctx.addIssue({ code: 'custom', path: ['name'], message: 'name is only for Sentinel (sentinels: [...])' });
  });

export type KeyConfig = z.infer<typeof keySchema>;
export type TenantConfig = z.infer<typeof tenantSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
