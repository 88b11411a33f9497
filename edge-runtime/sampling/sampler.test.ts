/** Sampling: greedy, seeds, top-k/top-p/min-p, penalties, logprobs, and agreement with softmax probabilities. */
import { describe, expect, it } from 'vitest';
import type { EngineSampling } from '../engine/protocol.js';
import { Sampler } from './sampler.js';

const base: EngineSampling = { temperature: 1, topP: 1, topK: -1, minP: 0, repetitionPenalty: 1, frequencyPenalty: 0, presencePenalty: 0 };
const logits = Float32Array.from([1.0, 2.5, 0.3, 2.4, -1, 0.9, 1.7, 0.0]);

function draws(s: Sampler, p: EngineSampling, n: number, seed = 7, counts = new Map<number, number>()): number[] {
  const rng = s.rng(seed, 0);
  return Array.from({ length: n }, () => s.sample(logits, p, { promptTokens: [], outputCounts: counts, rng, topLogprobs: undefined }).token);
}

describe('sampler', () => {
  const s = new Sampler();
  it('temperature 0 and top_k 1 are greedy', () => {
    expect(new Set(draws(s, { ...base, temperature: 0 }, 20))).toEqual(new Set([1]));
    expect(new Set(draws(s, { ...base, topK: 1 }, 20))).toEqual(new Set([1]));
    expect(new Set(draws(s, { ...base, topP: 0.01 }, 20))).toEqual(new Set([1]));
  });

  it('the same seed reproduces, different seeds differ', () => {
    expect(draws(s, base, 50, 1)).toEqual(draws(s, base, 50, 1));
    expect(draws(s, base, 50, 1)).not.toEqual(draws(s, base, 50, 2));
  });

  it('top-k and min-p restrict the candidates', () => {
    expect(new Set(draws(s, { ...base, topK: 2 }, 300))).toEqual(new Set([1, 3]));
    // min_p keeps tokens with p >= min_p * p(max), i.e. logits within ln(1/min_p) of the max.
    expect(new Set(draws(s, { ...base, minP: 0.5 }, 300))).toEqual(new Set([1, 3]));
    expect(new Set(draws(s, { ...base, minP: 0.4 }, 300))).toEqual(new Set([1, 3, 6]));
  });

  it('follows softmax probabilities (chi-square over 20k seeded draws)', () => {
    const n = 20_000;
    const counts = new Array(logits.length).fill(0) as number[];
    for (const t of draws(s, base, n, 11)) counts[t]!++;
    const z = [...logits].reduce((a, v) => a + Math.exp(v), 0);
    let chi = 0;
    logits.forEach((v, i) => {
      const e = (n * Math.exp(v)) / z;
      chi += (counts[i]! - e) ** 2 / e;
    });
    // 7 degrees of freedom: p = 0.001 at 24.3.
    expect(chi).toBeLessThan(24.3);
  });

  it('penalties push repeated tokens down', () => {
    const seen = new Map([[1, 3]]);
    const r = s.sample(
      logits,
      { ...base, temperature: 0, frequencyPenalty: 0.5 },
      { promptTokens: [], outputCounts: seen, rng: s.rng(1, 0), topLogprobs: undefined },
    );
    expect(r.token).toBe(3);
    const rep = s.sample(
      logits,
      { ...base, temperature: 0, repetitionPenalty: 2 },
      { promptTokens: [1], outputCounts: new Map(), rng: s.rng(1, 0), topLogprobs: undefined },
    );
    expect(rep.token).toBe(3);
  });

  it('reports logprobs whose probabilities sum to at most 1', () => {
    const r = s.sample(logits, { ...base, temperature: 0 }, { promptTokens: [], outputCounts: new Map(), rng: s.rng(1, 0), topLogprobs: 5 });
    expect(r.top).toHaveLength(5);
    expect(r.top![0]!.token).toBe(1);
    expect(r.logprob).toBeCloseTo(r.top![0]!.logprob, 6);
    const mass = r.top!.reduce((a, t) => a + Math.exp(t.logprob), 0);
    expect(mass).toBeLessThanOrEqual(1 + 1e-6);
    expect(mass).toBeGreaterThan(0.9);
  });

  it('a grammar mask leaves only allowed tokens, whatever the sampling settings', () => {
    // Allow tokens 0, 4 and 7 only (bits 0, 4, 7 of word 0): the unmasked favourites 1 and 3 must never come out.
    const allowed = Int32Array.from([(1 << 0) | (1 << 4) | (1 << 7)]);
    const settings: EngineSampling[] = [
      { ...base, temperature: 0 },
      base,
      { ...base, temperature: 2, topK: 5 },
      { ...base, topP: 0.5 },
      { ...base, minP: 0.5, repetitionPenalty: 1.5 },
    ];
    for (const p of settings) {
      const rng = s.rng(3, 0);
      const seen = new Set<number>();
      for (let i = 0; i < 200; i++) {
        const r = s.sample(logits, p, { promptTokens: [1, 3], outputCounts: new Map(), rng, topLogprobs: 2, allowed });
        seen.add(r.token);
        expect(Number.isFinite(r.logprob)).toBe(true);
      }
      for (const t of seen) expect([0, 4, 7]).toContain(t);
    }
    const greedy = s.sample(
      logits,
      { ...base, temperature: 0 },
      { promptTokens: [], outputCounts: new Map(), rng: () => 0.5, topLogprobs: undefined, allowed },
    );
    expect(greedy.token).toBe(0);
  });
});
