/** Who is calling: set by authentication (virtual keys), read by routing, budgets, rate limits, cache namespaces and records. */

export interface Principal {
  /** Stable id of the virtual key (never the key itself); 'anonymous' when auth is off. */
  keyId: string;
  tenant: string;
  /** Tags every request of this key carries (e.g. `pii`, `internal`). */
  defaultTags: readonly string[];
  /** Model names or globs the key may use; undefined = any. */
  allowedModels?: readonly string[];
  role?: 'user' | 'admin';
  /** Per-key limits per minute. */
  rpm?: number;
  tpm?: number;
}

export const ANONYMOUS: Principal = { keyId: 'anonymous', tenant: 'default', defaultTags: [] };

/** `*` matches any run of characters; everything else literally. */
export function modelAllowed(p: Principal, model: string): boolean {
  if (!p.allowedModels) return true;
  return p.allowedModels.some((pattern) => {
    if (!pattern.includes('*')) return pattern === model;
    const re = new RegExp(
      `^${pattern
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    return re.test(model);
  });
}
