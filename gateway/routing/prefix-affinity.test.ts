import { describe, expect, it } from 'vitest';
import type { UpstreamLoad } from '../core/upstream.js';
import { BLOCK_CHARS, leadingText, PrefixAffinity, prefixBlockHashes } from './prefix-affinity.js';

const pool = ['edge-a', 'edge-b', 'edge-c'];
const system = (i: number) => `System prompt ${i}: ${'you answer questions about topic '.repeat(40)}${i}`;
const chat = (sys: string, ...turns: string[]) => ({
  model: 'm',
  messages: [{ role: 'system', content: sys }, ...turns.map((t, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: t }))],
});
const idle = (): UpstreamLoad => ({ inFlight: 0 });

describe('prefix block hashes', () => {
  it('are chained: equal up to the first differing block, different from there on', () => {
    const a = prefixBlockHashes('x'.repeat(BLOCK_CHARS * 3) + 'A'.repeat(BLOCK_CHARS));
    const b = prefixBlockHashes('x'.repeat(BLOCK_CHARS * 3) + 'B'.repeat(BLOCK_CHARS) + 'x'.repeat(BLOCK_CHARS));
    expect(a).toHaveLength(4);
    expect(b).toHaveLength(5);
    expect(a.slice(0, 3)).toEqual(b.slice(0, 3));
    expect(a[3]).not.toBe(b[3]);
    // A block's hash depends on everything before it: the same last block after a different start differs.
    expect(prefixBlockHashes('y'.repeat(BLOCK_CHARS) + 'x'.repeat(BLOCK_CHARS))[1]).not.toBe(prefixBlockHashes('x'.repeat(BLOCK_CHARS * 2))[1]);
  });

  it('leading text follows the messages in order, roles included, text parts of multi-part content too', () => {
    const t = leadingText({
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: [{ type: 'text', text: 'U' }] },
      ],
    });
    expect(t).toBe('<|system|>S\n<|user|>U\n');
  });
});

describe('PrefixAffinity', () => {
  it('sends every user of one system prompt to one member, and spreads 8 system prompts over the pool', () => {
    const pa = new PrefixAffinity();
    const homeOf = new Map<number, Set<string>>();
    for (let user = 0; user < 40; user++) {
      const s = user % 8;
      const first = pa.choose(pool, chat(system(s), `user ${user} asks something`), idle).order[0]!;
      homeOf.set(s, (homeOf.get(s) ?? new Set()).add(first));
    }
    for (const members of homeOf.values()) expect(members.size).toBe(1);
    const used = new Set([...homeOf.values()].flatMap((m) => [...m]));
    expect(used.size).toBeGreaterThanOrEqual(2);
  });

  it('two gateway replicas agree on a prefix neither has seen (consistent hashing, no shared state)', () => {
    const a = new PrefixAffinity();
    const b = new PrefixAffinity();
    for (let s = 0; s < 20; s++) expect(a.choose(pool, chat(system(s), 'hi'), idle).order).toEqual(b.choose(pool, chat(system(s), 'hi'), idle).order);
  });

  it('removing a member moves only the prefixes that lived on it', () => {
    let moved = 0;
    for (let s = 0; s < 60; s++) {
      const before = new PrefixAffinity().choose(pool, chat(system(s), 'q'), idle).order[0]!;
      const after = new PrefixAffinity().choose(['edge-a', 'edge-b'], chat(system(s), 'q'), idle).order[0]!;
      if (before !== 'edge-c') expect(after).toBe(before);
      else moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('a conversation follows its deeper prefix: turn 2 goes where turn 1 went even when the anchor alone would not', () => {
    // A short system prompt: the anchor (first blocks) includes the user's own words, so turns could hash apart.
    const pa = new PrefixAffinity();
    for (let user = 0; user < 30; user++) {
      const t1 = 'long first question '.repeat(20) + user;
      const first = pa.choose(pool, chat('Be brief.', t1), idle).order[0];
      const second = pa.choose(pool, chat('Be brief.', t1, 'an answer '.repeat(10), 'a follow-up'), idle).order[0];
      expect(second).toBe(first);
    }
  });

  it('bounded load: a busy home spills to the next member, and the prefix goes home once the home has room', () => {
    const pa = new PrefixAffinity();
    const req = chat(system(1), 'q');
    const home = pa.choose(pool, req, idle).order[0]!;
    const loads: Record<string, UpstreamLoad> = { 'edge-a': { inFlight: 0 }, 'edge-b': { inFlight: 0 }, 'edge-c': { inFlight: 0 } };
    loads[home] = { inFlight: 2, queueDepth: 3 }; // 5 against an average of (5 + 1) / 3 = 2: over 1.25x
    const spilled = pa.choose(pool, req, (id) => loads[id]);
    expect(spilled.order[0]).not.toBe(home);
    expect(spilled.order[spilled.order.length - 1]).toBe(home);
    expect(spilled.reason).toMatch(/prefix affinity/);
    loads[home] = { inFlight: 0 };
    expect(pa.choose(pool, req, (id) => loads[id]).order[0]).toBe(home);
  });

  it('a member without a load reading (not in the catalog) goes last', () => {
    const pa = new PrefixAffinity();
    for (let s = 0; s < 10; s++)
      expect(pa.choose(pool, chat(system(s), 'q'), (id) => (id === 'edge-b' ? undefined : idle())).order[2]).toBe('edge-b');
  });

  it('keeps at most `capacity` prefix blocks', () => {
    const pa = new PrefixAffinity(10);
    for (let s = 0; s < 50; s++) pa.choose(pool, chat(system(s), 'q'), idle);
    expect((pa as unknown as { index: Map<number, string[]> }).index.size).toBe(10);
  });
});
