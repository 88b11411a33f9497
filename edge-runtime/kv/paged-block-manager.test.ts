/** Property tests of the block manager: no leaks or double frees, ref counts match tables, CoW before shared writes, exact prefix hits. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PagedBlockManager } from './paged-block-manager.js';

type Op =
  | { kind: 'alloc'; prompt: number[] }
  | { kind: 'append'; who: number; count: number }
  | { kind: 'fork'; who: number }
  | { kind: 'free'; who: number };

// A small alphabet and block size make shared prefixes and collisions of content frequent.
const BS = 4;
const promptArb = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 20 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('alloc' as const), prompt: promptArb }),
  fc.record({ kind: fc.constant('append' as const), who: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('fork' as const), who: fc.nat() }),
  fc.record({ kind: fc.constant('free' as const), who: fc.nat() }),
);

describe('PagedBlockManager', () => {
  it('keeps its invariants under random operations', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), fc.integer({ min: 3, max: 24 }), (ops, blocks) => {
        const m = new PagedBlockManager(blocks, BS);
        const live = new Map<string, number[]>(); // seq -> its tokens (all committed)
        let n = 0;
        const pick = (who: number) => [...live.keys()][who % Math.max(1, live.size)];
        for (const op of ops) {
          if (op.kind === 'alloc') {
            if (!m.canAllocate(op.prompt)) continue;
            const id = `s${n++}`;
            const { cachedTokens } = m.allocate(id, op.prompt);
            expect(cachedTokens % BS).toBe(0);
            expect(cachedTokens).toBeLessThan(op.prompt.length);
            m.commit(id, op.prompt.slice(cachedTokens));
            live.set(id, [...op.prompt]);
          } else if (op.kind === 'append') {
            const id = pick(op.who);
            if (!id || !m.canAppend(id, op.count)) continue;
            const tableBefore = [...m.blockTable(id)];
            const toks = live.get(id)!;
            const lastShared = toks.length % BS !== 0 && m.refCount[tableBefore[tableBefore.length - 1]!]! > 1;
            const copies = m.append(id, op.count);
            // A partially filled last block that others share must be copied before this sequence writes into it.
            expect(copies.length).toBe(lastShared ? 1 : 0);
            const table = m.blockTable(id);
            const firstWritten = Math.floor(toks.length / BS);
            for (let b = firstWritten; b < table.length; b++) expect(m.refCount[table[b]!]).toBe(1);
            const added = Array.from({ length: op.count }, (_, i) => (toks.length + i) % 3);
            m.commit(id, added);
            toks.push(...added);
          } else if (op.kind === 'fork') {
            const id = pick(op.who);
            if (!id) continue;
            const child = `s${n++}`;
            m.fork(id, child);
            live.set(child, [...live.get(id)!]);
          } else {
            const id = pick(op.who);
            if (!id) continue;
            m.free(id);
            live.delete(id);
          }
          m.checkInvariants();
          expect(m.numFreeBlocks()).toBeGreaterThanOrEqual(0);
          expect(m.numFreeBlocks()).toBeLessThanOrEqual(blocks);
        }
        for (const id of live.keys()) m.free(id);
        m.checkInvariants();
        expect(m.numFreeBlocks()).toBe(blocks);
      }),
      { numRuns: 300 },
    );
  });

  it('a prefix hit returns exactly the blocks that hold the same tokens', () => {
    fc.assert(
      fc.property(promptArb, promptArb, (a, b) => {
        const m = new PagedBlockManager(64, BS);
        m.allocate('a', a);
        m.commit('a', a);
        const { cachedTokens } = m.allocate('b', b);
        // Expected: the longest run of whole equal blocks, leaving at least one token of b to compute.
        let same = 0;
        while (same < Math.min(a.length, b.length) && a[same] === b[same]) same++;
        const expected = Math.min(Math.floor(same / BS), Math.floor(a.length / BS), Math.floor((b.length - 1) / BS)) * BS;
        expect(cachedTokens).toBe(expected);
        expect(m.blockTable('b').slice(0, expected / BS)).toEqual(m.blockTable('a').slice(0, expected / BS));
        m.checkInvariants();
      }),
      { numRuns: 500 },
    );
  });

  it('keeps freed prefixes cached and evicts them least recently used', () => {
    const m = new PagedBlockManager(4, BS);
    const p1 = [1, 1, 1, 1, 2];
    const p2 = [2, 2, 2, 2, 2];
    m.allocate('a', p1);
    m.commit('a', p1);
    m.free('a');
    m.allocate('b', p2);
    m.commit('b', p2);
    m.free('b');
    expect(m.stats().cachedFree).toBe(2);
    // Reuse p1's cached block: it becomes most recently used.
    expect(m.allocate('c', p1).cachedTokens).toBe(4);
    m.free('c');
    // Three fresh blocks with two free force one eviction: p2's block (least recently used), not p1's.
    m.allocate('d', [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(m.stats().cachedFree).toBe(1);
    m.free('d');
    expect(m.allocate('e', [...p1]).cachedTokens).toBe(4);
    expect(m.allocate('f', [...p2]).cachedTokens).toBe(0);
    m.free('e');
    m.free('f');
    m.checkInvariants();
  });
});
