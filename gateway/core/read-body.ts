/** Reads and parses a JSON request body under a byte limit, turning every failure into a clear 4xx. */
import { errors, GatewayError } from './errors.js';
import type { JsonObject } from './types.js';
import { formatPath } from '../config/load-config.js';
import type { z } from 'zod';

const MAX_DEPTH = 64;

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > limit) return true;
    if (v && typeof v === 'object') for (const child of Object.values(v)) if (child && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

/** Returns the parsed object and its size in bytes (for token estimates). */
export async function readJsonBody(request: Request, limit: number): Promise<{ json: JsonObject; bytes: number }> {
  const ctype = request.headers.get('content-type') ?? '';
  if (ctype && !/^application\/([a-z.+-]*\+)?json\b/i.test(ctype) && !ctype.startsWith('text/plain')) {
    throw errors.unsupportedMediaType(ctype);
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw errors.tooLarge(limit);
  if (!request.body) throw errors.badJson('the body is empty');
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw errors.tooLarge(limit);
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw errors.badJson('the body is not valid UTF-8');
  }
  if (text.trim() === '') throw errors.badJson('the body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw errors.badJson(err instanceof Error ? err.message : 'syntax error');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw errors.invalid('The request body must be a JSON object.', null, 'invalid_type');
  }
  if (depthExceeds(parsed, MAX_DEPTH)) {
    throw errors.invalid(`The request body nests deeper than ${MAX_DEPTH} levels.`, null, 'too_deep');
  }
  return { json: parsed as JsonObject, bytes: size };
}

/** Validates a parsed body; the first issue becomes a 400 whose `param` names the field. */
export function validate<S extends z.ZodType>(schema: S, body: JsonObject): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = formatPath(issue.path) || null;
  const missing = issue.code === 'invalid_type' && issue.message.includes('undefined');
  const message = missing ? `Missing required parameter: '${param}'.` : `Invalid value for '${param ?? 'body'}': ${issue.message}`;
  throw new GatewayError(message, { status: 400, code: missing ? 'missing_required_parameter' : 'invalid_value', param });
}
