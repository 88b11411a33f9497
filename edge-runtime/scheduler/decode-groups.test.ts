/** Cutting a step's decode rows into passes by past length. */
import { describe, expect, it } from 'vitest';
import { decodeGroups, PASS_COST_POSITIONS } from './decode-groups.js';
import { seededRandom } from '../graph/llama-weights.js';

const cost = (pasts: number[], groups: number[][], block: number, passCost: number) =>
  groups.reduce((a, g) => a + passCost + g.length * Math.max(1, Math.ceil(Math.max(...g.map((i) => pasts[i]!)) / block)) * block, 0);

describe('decodeGroups', () => {
  it('keeps rows of similar past in one pass, and every row exactly once', () => {
    expect(decodeGroups([], 16)).toEqual([]);
    expect(decodeGroups([100], 16)).toEqual([[0]]);
    expect(decodeGroups([190, 200, 185, 196, 201, 188, 192, 199], 16)).toHaveLength(1);
    // 8 rows spread 85-334: one more pass costs more than the padding it saves (measured: splitting was 12% slower).
    expect(decodeGroups([85, 103, 124, 260, 271, 302, 312, 334], 16)).toHaveLength(1);
  });

  it('cuts 32 rows spread over 40-360 into passes of neighbouring lengths', () => {
    const r = seededRandom(5);
    const pasts = Array.from({ length: 32 }, () => 40 + Math.floor(r() * 320));
    const groups = decodeGroups(pasts, 16);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(pasts.map((_, i) => i));
    // Groups do not interleave: each one's lengths lie above the previous one's.
    for (let g = 1; g < groups.length; g++) {
      expect(Math.min(...groups[g]!.map((i) => pasts[i]!))).toBeGreaterThanOrEqual(Math.max(...groups[g - 1]!.map((i) => pasts[i]!)));
    }
    expect(cost(pasts, groups, 16, PASS_COST_POSITIONS)).toBeLessThan(cost(pasts, [pasts.map((_, i) => i)], 16, PASS_COST_POSITIONS));
  });

  it('finds the cheapest cut (checked against every cut of 9 sorted rows)', () => {
    const r = seededRandom(11);
    for (let trial = 0; trial < 20; trial++) {
      const pasts = Array.from({ length: 9 }, () => 1 + Math.floor(r() * 600));
      const passCost = [64, 256, 768][trial % 3]!;
      const got = cost(pasts, decodeGroups(pasts, 16, passCost), 16, passCost);
      const order = pasts.map((_, i) => i).sort((a, b) => pasts[a]! - pasts[b]!);
      let best = Infinity;
      for (let mask = 0; mask < 1 << 8; mask++) {
        const groups: number[][] = [[order[0]!]];
        for (let i = 1; i < 9; i++) (mask >> (i - 1)) & 1 ? groups.push([order[i]!]) : groups[groups.length - 1]!.push(order[i]!);
        best = Math.min(best, cost(pasts, groups, 16, passCost));
      }
      expect(got).toBe(best);
    }
  });
});
