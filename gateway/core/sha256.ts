/**
 * SHA-256 hex of a string. WebCrypto's digest is a thread-pool job per call (≈10% of the gateway's CPU under load in
 * the hot-path profile: two digests per request, key + cache key); on Node the synchronous node:crypto hash is used
 * instead. Reached through process.getBuiltinModule so no node: import enters the Workers bundle (no nodejs_compat).
 */
type NodeCrypto = {
  createHash(alg: 'sha256'): { update(text: string): { digest(enc: 'hex'): string } };
  /** One-shot hash (Node >= 20.12): no Hash object per call, half the CPU of createHash for short inputs. */
  hash?: (alg: 'sha256', text: string, enc: 'hex') => string;
};

const nodeCrypto: NodeCrypto | undefined = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(
  'node:crypto',
) as NodeCrypto | undefined;

export async function sha256Hex(text: string): Promise<string> {
  if (nodeCrypto) return nodeCrypto.hash ? nodeCrypto.hash('sha256', text, 'hex') : nodeCrypto.createHash('sha256').update(text).digest('hex');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  let hex = '';
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, '0');
  return hex;
}
