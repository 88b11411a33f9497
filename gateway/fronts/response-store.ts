/**
 * Stored responses for `previous_response_id`: the conversation so far (chat messages) and the response object, per
 * tenant, in the gateway's CacheStore (memory or Redis, AES-GCM encrypted at rest when the cache is), with a TTL.
 * A tenant can never read another tenant's responses: the tenant is part of the key.
 */
import type { CacheStore } from '../cache/cache-store.js';
import { MemoryCache } from '../cache/memory-cache.js';
import type { JsonObject } from '../core/types.js';
import { isJsonObject } from '../core/validate.js';

/** How long a stored response can be continued from (OpenAI keeps them 30 days; a gateway cache is not an archive). */
export const STORED_RESPONSE_TTL_SECONDS = 24 * 3600;

export interface StoredResponse {
  conversation: JsonObject[];
  response: JsonObject;
}

export class ResponseStore {
  private readonly store: CacheStore;

  /** Without a result cache (`cache.backend: off`) responses are kept in a small LRU of this process. */
  constructor(store: CacheStore | undefined) {
    this.store = store ?? new MemoryCache(1000, 16 * 1024 * 1024);
  }

  private key(tenant: string, id: string): string {
    return `switchyard:response:${tenant}:${id}`;
  }

  async get(tenant: string, id: string): Promise<StoredResponse | undefined> {
    const v = await this.store.get(this.key(tenant, id));
    if (!v || !Array.isArray(v['conversation']) || !isJsonObject(v['response'])) return undefined;
    return { conversation: v['conversation'].filter(isJsonObject), response: v['response'] };
  }

  async put(tenant: string, id: string, stored: StoredResponse): Promise<void> {
    await this.store.set(this.key(tenant, id), { conversation: stored.conversation, response: stored.response }, STORED_RESPONSE_TTL_SECONDS);
  }
}
