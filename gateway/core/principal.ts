/** Who is calling: set by authentication (virtual keys), read by routing, budgets, rate limits, cache namespaces and records. */

export interface Principal {
  /** Stable id of the virtual key (never the key itself); 'anonymous' when auth is off. */
  keyId: string;
  tenant: string;
  /** Tags every request of this key carries (e.g. `pii`, `internal`). */
  defaultTags: readonly string[];
}

export const ANONYMOUS: Principal = { keyId: 'anonymous', tenant: 'default', defaultTags: [] };
