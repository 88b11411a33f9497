/** Resolves `Authorization: Bearer sk-sy-...` to a Principal; one answer for missing and unknown keys alike. */
import { GatewayError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { KeyConfig } from './auth-config.js';
import { constantTimeEqual, sha256Hex } from './key-hash.js';

export function invalidKey(): GatewayError {
  // The same message whether the header is missing, malformed or names no key: nothing reveals which keys exist.
  return new GatewayError('Incorrect API key provided. Send a valid Switchyard key as `Authorization: Bearer sk-sy-...`.', {
    status: 401,
    code: 'invalid_api_key',
    headers: { 'www-authenticate': 'Bearer' },
  });
}

export class Authenticator {
  constructor(private readonly keys: readonly KeyConfig[]) {}

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  async authenticate(header: string | undefined | null): Promise<Principal> {
    const m = header ? /^Bearer\s+(\S{1,512})$/i.exec(header.trim()) : null;
    // Hash even a missing key, so every path costs the same.
    const hash = await sha256Hex(m?.[1] ?? '');
    let found: KeyConfig | undefined;
    // Compare against every configured hash (no early exit), each in constant time.
    for (const k of this.keys) if (constantTimeEqual(hash, k.sha256) && m) found = k;
    if (!found) throw invalidKey();
    return {
      keyId: found.id,
      tenant: found.tenant,
      defaultTags: found.tags,
      allowedModels: found.models.includes('*') ? undefined : found.models,
      role: found.role,
      rpm: found.rpm,
      tpm: found.tpm,
    };
  }
}
