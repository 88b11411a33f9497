/** The one way a zod failure becomes a client error: the first issue, its path as `messages[0].content`. */
import type { z } from 'zod';
import { GatewayError } from './errors.js';
import type { JsonObject } from './types.js';

/** `['messages', 0, 'content']` -> `messages[0].content` (config errors use the same format). */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Validates a parsed body; the first issue becomes a 400 whose `param` names the field. */
export function validate<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const param = issue ? formatPath(issue.path) || null : null;
  const missing = issue?.code === 'invalid_type' && issue.message.includes('undefined');
  const message = missing ? `Missing required parameter: '${param}'.` : `Invalid value for '${param ?? 'body'}': ${issue?.message ?? 'invalid'}`;
  throw new GatewayError(message, { status: 400, code: missing ? 'missing_required_parameter' : 'invalid_value', param });
}

/** A plain JSON object (not null, not an array): the guard every reader of untyped JSON needs. */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
