/** Chunked prefill while others decode: chunk size from measured costs, enforced by the scheduler. */
import { describe, expect, it } from 'vitest';
import { PrefillPacer } from './prefill-pacer.js';
import { Scheduler } from './scheduler.js';
import { Sequence } from './sequence.js';
import { PagedBlockManager } from '../kv/paged-block-manager.js';

describe('PrefillPacer', () => {
  it('has no cap until both a decode and a prefill pass were measured', () => {
    const p = new PrefillPacer();
    expect(p.cap()).toBeUndefined();
    p.decoded(50);
    expect(p.cap()).toBeUndefined();
    p.prefilled(100, 500);
    // 0.2 ms per prefill token; a chunk may cost 0.8 of a 50 ms decode pass: 200 tokens.
    expect(p.cap()).toBe(200);
  });

  it('never goes below the minimum chunk', () => {
    const p = new PrefillPacer();
    p.decoded(1);
    p.prefilled(1000, 10);
    expect(p.cap()).toBe(32);
  });
});

describe('Scheduler with a prefill cap', () => {
  const limits = { maxNumSeqs: 8, maxBatchedTokens: 512 };
  const seq = (id: string, len: number, t: number) =>
    new Sequence(
      id,
      id,
      0,
      Array.from({ length: len }, (_, i) => (i % 200) + 3),
      t,
      undefined,
    );

  it('caps a long prompt to the cap while another sequence decodes, and not when nobody decodes', () => {
    const kv = new PagedBlockManager(512, 16, false);
    const s = new Scheduler(kv, limits);
    s.prefillCapWhileDecoding = 64;
    const a = seq('a', 20, 1);
    s.add(a);
    // Nobody decodes yet: the first prompt goes whole.
    let plan = s.schedule();
    expect(plan.prefill.map((c) => c.end - c.start)).toEqual([20]);
    a.computed = 20;
    a.tokens.push(7); // sampled: a now decodes
    const long = seq('long', 2000, 2);
    s.add(long);
    plan = s.schedule();
    expect(plan.decode).toEqual([a]);
    expect(plan.prefill.map((c) => [c.seq.id, c.end - c.start])).toEqual([['long', 64]]);
    // Without the cap the same step would have carried 511 prompt tokens.
    const s2 = new Scheduler(new PagedBlockManager(512, 16, false), limits);
    const b = seq('b', 20, 1);
    s2.add(b);
    s2.schedule();
    b.computed = 20;
    b.tokens.push(7);
    s2.add(seq('long', 2000, 2));
    expect(s2.schedule().prefill.map((c) => c.end - c.start)).toEqual([511]);
  });
});

describe('Scheduler with several sequences waiting', () => {
  const limits = { maxNumSeqs: 16, maxBatchedTokens: 512 };
  const prompt = (len: number) => Array.from({ length: len }, (_, i) => (i % 200) + 3);

  it('gives several waiting prompts their headcount share of the budget, above the pacer cap', () => {
    const s = new Scheduler(new PagedBlockManager(512, 16, false), limits);
    s.prefillCapWhileDecoding = 32;
    const a = new Sequence('a', 'a', 0, prompt(100), 1, undefined);
    s.add(a);
    s.schedule();
    a.computed = 100;
    a.tokens.push(7); // a decodes
    for (let i = 0; i < 3; i++) s.add(new Sequence(`w${i}`, `w${i}`, 0, prompt(150), 2 + i, undefined));
    const plan = s.schedule();
    expect(plan.decode).toEqual([a]);
    // 3 waiting, 1 decoding: 3/4 of the 512 budget = 384 prefill tokens (the cap alone allowed 32).
    expect(plan.prefill.reduce((n, c) => n + c.end - c.start, 0)).toBe(384);
    expect(plan.prefill.map((c) => c.seq.id)).toEqual(['w0', 'w1', 'w2']);
  });

  it('off (shareWithWaiting = false): the pacer cap alone', () => {
    const s = new Scheduler(new PagedBlockManager(512, 16, false), limits);
    s.prefillCapWhileDecoding = 32;
    s.shareWithWaiting = false;
    const a = new Sequence('a', 'a', 0, prompt(100), 1, undefined);
    s.add(a);
    s.schedule();
    a.computed = 100;
    a.tokens.push(7);
    for (let i = 0; i < 3; i++) s.add(new Sequence(`w${i}`, `w${i}`, 0, prompt(150), 2 + i, undefined));
    expect(s.schedule().prefill.reduce((n, c) => n + c.end - c.start, 0)).toBe(32);
  });
});
