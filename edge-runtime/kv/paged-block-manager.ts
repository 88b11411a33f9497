/**
 * The paged KV cache's bookkeeping: fixed-size blocks with reference counts and a free list, per-sequence block
 * tables, automatic prefix caching (full blocks keyed by a hash chained over their prefix, verified token by token;
 * freed cached blocks kept and evicted least-recently-used) and copy-on-write for shared blocks. It never touches
 * tensors: the engine copies the blocks it is told to.
 */
import type { KvPort } from '../scheduler/kv-port.js';
import { blockHash } from './prefix-hash.js';

export class KvOutOfBlocksError extends Error {
  constructor(need: number, have: number) {
    super(`KV pool exhausted: need ${need} block(s), ${have} available`);
    this.name = 'KvOutOfBlocksError';
  }
}

interface SeqBlocks {
  table: number[];
  /** Positions with a slot. */
  numTokens: number;
  /** Tokens whose K/V is written (prefix of the sequence). */
  committed: number[];
  /** Chained hash of each full committed block. */
  hashes: string[];
}

export interface KvStats {
  total: number;
  free: number;
  used: number;
  cachedFree: number;
  prefixHitRate: number;
  /** Allocated capacity of used blocks not holding a token (0..1). */
  waste: number;
}

export class PagedBlockManager implements KvPort {
  readonly refCount: Int32Array;
  private readonly freeList: number[] = [];
  /** Ref-0 blocks still holding a registered prefix; Map order = least recently used first. */
  private readonly cachedFree = new Map<number, true>();
  private readonly hashToBlock = new Map<string, number>();
  private readonly blockKey = new Map<number, { hash: string; tokens: number[] }>();
  private readonly seqs = new Map<string, SeqBlocks>();
  private queriedTokens = 0;
  private hitTokens = 0;

  constructor(
    readonly numBlocks: number,
    readonly blockSize: number,
    private readonly prefixCaching = true,
  ) {
    this.refCount = new Int32Array(numBlocks);
    for (let b = numBlocks - 1; b >= 0; b--) this.freeList.push(b);
  }

  numFreeBlocks(): number {
    return this.freeList.length + this.cachedFree.size;
  }

  blockTable(seqId: string): readonly number[] {
    return this.seq(seqId).table;
  }

  has(seqId: string): boolean {
    return this.seqs.has(seqId);
  }

  private seq(seqId: string): SeqBlocks {
    const s = this.seqs.get(seqId);
    if (!s) throw new Error(`unknown sequence ${seqId}`);
    return s;
  }

  /** Blocks of `tokens` already cached, in order (at most all but the last token: it must be computed for logits). */
  private prefixHits(tokens: readonly number[]): Array<{ block: number; hash: string }> {
    const hits: Array<{ block: number; hash: string }> = [];
    if (!this.prefixCaching) return hits;
    const bs = this.blockSize;
    const full = Math.floor((tokens.length - 1) / bs);
    let parent = '';
    for (let k = 0; k < full; k++) {
      const h = blockHash(parent, tokens, k * bs, (k + 1) * bs);
      const block = this.hashToBlock.get(h);
      if (block === undefined) break;
      const key = this.blockKey.get(block)!;
      let same = true;
      for (let i = 0; i < bs && same; i++) same = key.tokens[i] === tokens[k * bs + i];
      if (!same) break;
      hits.push({ block, hash: h });
      parent = h;
    }
    return hits;
  }

  canAllocate(promptTokens: readonly number[]): boolean {
    const need = Math.ceil(promptTokens.length / this.blockSize);
    const hitsInUse = this.prefixHits(promptTokens).filter((h) => this.refCount[h.block]! > 0).length;
    return need - hitsInUse <= this.numFreeBlocks();
  }

  allocate(seqId: string, promptTokens: readonly number[]): { cachedTokens: number } {
    if (this.seqs.has(seqId)) throw new Error(`sequence ${seqId} already allocated`);
    if (!this.canAllocate(promptTokens)) throw new KvOutOfBlocksError(Math.ceil(promptTokens.length / this.blockSize), this.numFreeBlocks());
    const hits = this.prefixHits(promptTokens);
    const table: number[] = [];
    for (const h of hits) {
      this.takeRef(h.block);
      table.push(h.block);
    }
    const need = Math.ceil(promptTokens.length / this.blockSize);
    while (table.length < need) table.push(this.fresh());
    const cached = hits.length * this.blockSize;
    this.queriedTokens += promptTokens.length;
    this.hitTokens += cached;
    this.seqs.set(seqId, { table, numTokens: promptTokens.length, committed: promptTokens.slice(0, cached), hashes: hits.map((h) => h.hash) });
    return { cachedTokens: cached };
  }

  /** New blocks `count` more tokens would take, copy-on-write of a shared last block included. */
  private blocksFor(s: SeqBlocks, count: number): number {
    const bs = this.blockSize;
    const lastBlocks = Math.ceil((s.numTokens + count) / bs);
    let need = Math.max(0, lastBlocks - s.table.length);
    if (s.numTokens % bs !== 0 && count > 0 && this.refCount[s.table[s.table.length - 1]!]! > 1) need++;
    return need;
  }

  canAppend(seqId: string, count: number): boolean {
    return this.blocksFor(this.seq(seqId), count) <= this.numFreeBlocks();
  }

  append(seqId: string, count: number): Array<{ src: number; dst: number }> {
    const s = this.seq(seqId);
    const need = this.blocksFor(s, count);
    if (need > this.numFreeBlocks()) throw new KvOutOfBlocksError(need, this.numFreeBlocks());
    const copies: Array<{ src: number; dst: number }> = [];
    const bs = this.blockSize;
    if (s.numTokens % bs !== 0 && count > 0) {
      const last = s.table.length - 1;
      const src = s.table[last]!;
      if (this.refCount[src]! > 1) {
        // Someone else reads this block: write into a private copy.
        const dst = this.fresh();
        this.dropRef(src);
        s.table[last] = dst;
        copies.push({ src, dst });
      }
    }
    s.numTokens += count;
    while (s.table.length < Math.ceil(s.numTokens / bs)) s.table.push(this.fresh());
    return copies;
  }

  commit(seqId: string, tokens: readonly number[]): void {
    const s = this.seq(seqId);
    for (const t of tokens) s.committed.push(t);
    if (!this.prefixCaching) return;
    const bs = this.blockSize;
    while ((s.hashes.length + 1) * bs <= s.committed.length) {
      const k = s.hashes.length;
      const h = blockHash(k === 0 ? '' : s.hashes[k - 1]!, s.committed, k * bs, (k + 1) * bs);
      s.hashes.push(h);
      const block = s.table[k]!;
      if (!this.hashToBlock.has(h) && !this.blockKey.has(block)) {
        this.hashToBlock.set(h, block);
        this.blockKey.set(block, { hash: h, tokens: s.committed.slice(k * bs, (k + 1) * bs) });
      }
    }
  }

  fork(parentId: string, childId: string): void {
    const p = this.seq(parentId);
    for (const b of p.table) this.refCount[b]!++;
    this.seqs.set(childId, { table: [...p.table], numTokens: p.numTokens, committed: [...p.committed], hashes: [...p.hashes] });
  }

  free(seqId: string): void {
    const s = this.seqs.get(seqId);
    if (!s) return;
    this.seqs.delete(seqId);
    for (const b of s.table) this.dropRef(b);
  }

  stats(): KvStats {
    const fill = new Map<number, number>();
    for (const s of this.seqs.values()) {
      s.table.forEach((b, k) => {
        const n = Math.min(this.blockSize, s.numTokens - k * this.blockSize);
        fill.set(b, Math.max(fill.get(b) ?? 0, n));
      });
    }
    let held = 0;
    for (const n of fill.values()) held += n;
    const used = this.numBlocks - this.numFreeBlocks();
    return {
      total: this.numBlocks,
      free: this.numFreeBlocks(),
      used,
      cachedFree: this.cachedFree.size,
      prefixHitRate: this.queriedTokens > 0 ? this.hitTokens / this.queriedTokens : 0,
      waste: used > 0 ? 1 - held / (used * this.blockSize) : 0,
    };
  }

  private takeRef(block: number): void {
    if (this.refCount[block] === 0) this.cachedFree.delete(block);
    this.refCount[block]!++;
  }

  private dropRef(block: number): void {
    const r = --this.refCount[block]!;
    if (r < 0) throw new Error(`block ${block} freed twice`);
    if (r > 0) return;
    if (this.blockKey.has(block)) this.cachedFree.set(block, true);
    else this.freeList.push(block);
  }

  /** A block with no owner: from the free list, else the least recently used cached block (its prefix forgotten). */
  private fresh(): number {
    let b = this.freeList.pop();
    if (b === undefined) {
      const lru = this.cachedFree.keys().next();
      if (lru.done) throw new KvOutOfBlocksError(1, 0);
      b = lru.value;
      this.cachedFree.delete(b);
      const key = this.blockKey.get(b)!;
      this.blockKey.delete(b);
      if (this.hashToBlock.get(key.hash) === b) this.hashToBlock.delete(key.hash);
    }
    this.refCount[b] = 1;
    return b;
  }

  /** Invariant check for tests: every block is exactly one of free, cached-free or referenced, and counts match tables. */
  checkInvariants(): void {
    const refs = new Int32Array(this.numBlocks);
    for (const s of this.seqs.values()) for (const b of s.table) refs[b]!++;
    const inFree = new Set(this.freeList);
    if (inFree.size !== this.freeList.length) throw new Error('free list has duplicates');
    for (let b = 0; b < this.numBlocks; b++) {
      if (refs[b] !== this.refCount[b]) throw new Error(`block ${b}: refCount ${this.refCount[b]} but ${refs[b]} table entries`);
      const states = (refs[b]! > 0 ? 1 : 0) + (inFree.has(b) ? 1 : 0) + (this.cachedFree.has(b) ? 1 : 0);
      if (states !== 1) throw new Error(`block ${b} is in ${states} states`);
    }
  }
}
