/** Cache key: SHA-256 over the normalised request (output-affecting fields only), the tenant and the policy version. */
import type { JsonObject, JsonValue } from '../core/types.js';
import { sha256Hex } from '../core/sha256.js';

/** Fields that never change the answer. */
export const IGNORED = new Set(['user', 'stream', 'stream_options', 'metadata', 'store', 'service_tier']);

/** The value with object keys sorted at every depth: the same request in any key order gives one key. */
export function canonical(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]!);
    return out;
  }
  return v;
}

export async function cacheKey(endpoint: string, body: JsonObject, tenant: string, policyVersion: string): Promise<string> {
  const kept: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (!IGNORED.has(k)) kept[k] = v;
  const text = JSON.stringify([endpoint, tenant, policyVersion, canonical(kept)]);
  return `v1:${await sha256Hex(text)}`;
}
