/**
 * Requests and tokens per minute, per key and per tenant, on the shared CounterStore (atomic across replicas).
 * Tokens are reserved from an estimate before the call and reconciled with actual usage after it.
 */
import type { CounterReservation, CounterStore } from '../counters/counter-store.js';
import { peekReservation } from '../counters/peek-reservation.js';
import { GatewayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../core/principal.js';
import type { TenantConfig } from './auth-config.js';

const WINDOW_MS = 60_000;

interface Limit {
  scope: 'key' | 'tenant';
  kind: 'requests' | 'tokens';
  name: string;
  limit: number;
  amount: number;
  key: string;
}

export interface RateLimitGrant {
  headers: Record<string, string>;
  /** Token counters to correct once actual usage is known. */
  tokenKeys: string[];
  estimate: number;
  expiresAt: number;
}

export class RateLimiter {
  errors = 0;

  constructor(
    private readonly store: CounterStore,
    private readonly tenants: Record<string, TenantConfig>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** With `dryRun` (explain), the answer is the one a real request would get, and no counter changes. */
  async check(p: Principal, estimateTokens: number, opts: { dryRun?: boolean } = {}): Promise<RateLimitGrant | undefined> {
    const now = this.now();
    const windowStart = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    const expiresAt = windowStart + WINDOW_MS + 1_000;
    const t = this.tenants[p.tenant];
    const limits: Limit[] = [];
    const add = (scope: Limit['scope'], kind: Limit['kind'], name: string, limit: number | undefined, amount: number) => {
      if (limit !== undefined) limits.push({ scope, kind, name, limit, amount, key: `rl:${scope}:${name}:${kind}:${windowStart}` });
    };
    add('key', 'requests', p.keyId, p.rpm, 1);
    add('key', 'tokens', p.keyId, p.tpm, estimateTokens);
    add('tenant', 'requests', p.tenant, t?.rpm, 1);
    add('tenant', 'tokens', p.tenant, t?.tpm, estimateTokens);
    if (limits.length === 0) return undefined;
    const resetS = Math.max(1, Math.ceil((windowStart + WINDOW_MS - now) / 1000));
    let result;
    try {
      const items = limits.map((l): CounterReservation => ({ key: l.key, amount: l.amount, limit: l.limit, expiresAt }));
      result = opts.dryRun ? await peekReservation(this.store, items) : await this.store.reserve(items);
    } catch (err) {
      // Shared state unavailable: serve rather than fail every request (counted and logged).
      this.errors++;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limit store unavailable: not enforcing');
      return undefined;
    }
    if (!result.ok) {
      const l = limits[result.index]!;
      const headers = {
        'retry-after': String(resetS),
        [`x-ratelimit-limit-${l.kind}`]: String(l.limit),
        [`x-ratelimit-remaining-${l.kind}`]: String(Math.max(0, l.limit - result.current)),
        [`x-ratelimit-reset-${l.kind}`]: `${resetS}s`,
      };
      throw new GatewayError(
        `Rate limit reached for ${l.scope} '${l.name}' on ${l.kind} per minute: limit ${l.limit}, used ${result.current}, requested ${l.amount}. Try again in ${resetS}s.`,
        { status: 429, code: 'rate_limit_exceeded', headers },
      );
    }
    const headers: Record<string, string> = {};
    // Report the key's own limits when it has them, otherwise the tenant's (what OpenAI clients read).
    for (const kind of ['requests', 'tokens'] as const) {
      const i = limits.findIndex((l) => l.kind === kind && l.scope === 'key');
      const j = i >= 0 ? i : limits.findIndex((l) => l.kind === kind);
      if (j < 0) continue;
      headers[`x-ratelimit-limit-${kind}`] = String(limits[j]!.limit);
      headers[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, limits[j]!.limit - result.values[j]!));
      headers[`x-ratelimit-reset-${kind}`] = `${resetS}s`;
    }
    return { headers, tokenKeys: limits.filter((l) => l.kind === 'tokens').map((l) => l.key), estimate: estimateTokens, expiresAt };
  }

  /** Replaces the estimate with the actual token count. */
  async reconcile(grant: RateLimitGrant, actualTokens: number): Promise<void> {
    const delta = actualTokens - grant.estimate;
    if (delta === 0) return;
    await Promise.all(grant.tokenKeys.map((k) => this.store.adjust(k, delta, grant.expiresAt))).catch(() => {
      this.errors++;
    });
  }
}
