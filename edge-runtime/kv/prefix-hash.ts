/** Chained block hashes for automatic prefix caching: a block's key covers its tokens and every block before it. */

export function blockHash(parent: string, tokens: ArrayLike<number>, start: number, end: number): string {
  // Two FNV-1a lanes with different offsets: 64 bits of key; hits are still verified token by token.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < parent.length; i++) {
    const c = parent.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  for (let i = start; i < end; i++) {
    const t = tokens[i]!;
    a = Math.imul(a ^ t, 0x01000193);
    b = Math.imul(b ^ (t * 31 + 7), 0x5bd1e995);
    b ^= b >>> 13;
  }
  return (a >>> 0).toString(36) + ':' + (b >>> 0).toString(36) + ':' + (end - start);
}
