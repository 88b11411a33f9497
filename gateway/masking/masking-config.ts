/** The `masking` config section: how reversible-masking session tables are kept. */
import { z } from 'zod';
import { headerNameSchema } from '../core/header-name.js';

export const maskingSchema = z.strictObject({
  /**
   * AES-256-GCM key for session tables, base64 of 32 bytes (`${ENV}` interpolation works). Absent: a random key per
   * process, so tables do not survive a restart (they are a convenience, never needed to answer one request).
   */
  key: z
    .string()
    .refine((k) => /^[A-Za-z0-9+/]{43}=$/.test(k), 'must be base64 of exactly 32 bytes')
    .optional(),
  /** How long a session's table lives after its last use. */
  session_ttl_seconds: z.number().int().positive().default(3600),
  /** Sessions kept at most; the least recently used goes first. */
  max_sessions: z.number().int().positive().default(10_000),
  /** The request header naming a session; without it the OpenAI `user` field does, else the table is per request. */
  session_header: headerNameSchema.default('x-switchyard-session'),
});

export type MaskingConfig = z.infer<typeof maskingSchema>;
