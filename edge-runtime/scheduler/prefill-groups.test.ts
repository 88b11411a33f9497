/** Prefill chunks of several sequences share a pass while padding stays bounded. */
import { describe, expect, it } from 'vitest';
import { MAX_PADDING, prefillGroups } from './prefill-groups.js';

describe('prefillGroups', () => {
  it('puts chunks of similar length in one pass, longest first', () => {
    expect(prefillGroups([100, 120, 110])).toEqual([[1, 2, 0]]);
  });

  it('starts a new pass when padding would exceed the bound', () => {
    // 200 + 20 padded to 2 × 200 = 400 > 1.25 × 220: separate passes.
    expect(prefillGroups([20, 200])).toEqual([[1], [0]]);
  });

  it('keeps every group within the padding bound and covers every chunk once', () => {
    const lengths = [32, 256, 120, 64, 64, 200, 17, 512, 90, 91];
    const groups = prefillGroups(lengths);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const g of groups) {
      const ls = g.map((i) => lengths[i]!);
      const padded = g.length * Math.max(...ls);
      expect(padded).toBeLessThanOrEqual(MAX_PADDING * ls.reduce((a, b) => a + b, 0));
    }
  });

  it('one row per pass when rows must run alone', () => {
    expect(prefillGroups([50, 50, 50], 1)).toEqual([[0], [1], [2]]);
  });

  it('nothing to group', () => {
    expect(prefillGroups([])).toEqual([]);
  });
});
