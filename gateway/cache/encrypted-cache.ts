/** Optional encryption at rest for cached answers: AES-GCM (WebCrypto) around any CacheStore, key from config. */
import type { JsonObject } from '../core/types.js';
import type { CacheStore } from './cache-store.js';

/** Base64 in slices: spreading a whole large answer into String.fromCharCode overflows the stack (~125 KB here). */
function b64(u: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < u.length; i += 0x8000) binary += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(binary);
}
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export class EncryptedCache implements CacheStore {
  private constructor(
    private readonly inner: CacheStore,
    private readonly key: CryptoKey,
  ) {}

  /** `keyBase64` must decode to 32 bytes (AES-256). */
  static async create(inner: CacheStore, keyBase64: string): Promise<EncryptedCache> {
    const raw = unb64(keyBase64);
    if (raw.length !== 32) throw new Error('cache.encryption_key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
    return new EncryptedCache(inner, await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']));
  }

  async get(key: string): Promise<JsonObject | undefined> {
    const box = await this.inner.get(key);
    if (!box || typeof box['iv'] !== 'string' || typeof box['ct'] !== 'string') return undefined;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: unb64(box['iv']), additionalData: new TextEncoder().encode(key) },
        this.key,
        unb64(box['ct']),
      );
      return JSON.parse(new TextDecoder().decode(plain)) as JsonObject;
    } catch {
      return undefined; // tampered, or written under another key: a miss
    }
  }

  async set(key: string, value: JsonObject, ttlSeconds: number): Promise<void> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    // The cache key is bound as associated data: an entry cannot be replayed under another request's key.
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(key) },
      this.key,
      new TextEncoder().encode(JSON.stringify(value)),
    );
    await this.inner.set(key, { iv: b64(iv), ct: b64(new Uint8Array(ct)) }, ttlSeconds);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
