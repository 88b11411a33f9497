/** Key hashing and comparison (the core must run on Workers too: sha256Hex falls back to WebCrypto there). */

export { sha256Hex } from '../core/sha256.js';

/** Compares two equal-length strings in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
