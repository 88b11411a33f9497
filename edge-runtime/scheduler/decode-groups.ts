/**
 * Splits one step's decode rows into forward passes by past length. A pass gathers every row's past up to the longest
 * row's (whole KV blocks; shorter rows read a zero block and mask it), and the gather, the K/V concat and attention
 * then work on that padded length: at 16-32 streams with pasts spread 40-360 tokens, the padding was most of that work
 * (bench-50m q4, 32 rows: one pass 92 CPU ms, two passes split by length 66, all rows at the mean length 64). A pass
 * also has a fixed cost (every weight streamed once, ~500 kernels): so rows are sorted by past and cut where the
 * padding saved outweighs one more pass.
 */

/**
 * What one more pass costs, in padded past positions of one row (row-positions). Fitted on bench-50m q4, 2 threads,
 * pasts drawn from 40-360 (docs/ARCHITECTURE.md, Edge throughput): 512-768 cut 32 rows into 3 passes (-25-30% CPU) and left 8 rows
 * whole; 256 and below made so many passes that they cost more than they saved, 1024 cut too little.
 */
export const PASS_COST_POSITIONS = 768;

/**
 * Row indices per pass, each group's rows in ascending past order. `pasts[i]` is row i's past length in tokens;
 * `blockSize` rounds a group's longest past up to the whole blocks the gather reads. Minimises
 * sum over passes of (passCost + rows x padded past) over cuts of the sorted rows (dynamic programming, O(n^2)).
 */
export function decodeGroups(pasts: readonly number[], blockSize: number, passCost = PASS_COST_POSITIONS): number[][] {
  const n = pasts.length;
  if (n <= 1) return n === 1 ? [[0]] : [];
  const order = pasts.map((_, i) => i).sort((a, b) => pasts[a]! - pasts[b]! || a - b);
  const padded = (i: number) => Math.max(1, Math.ceil(pasts[order[i]!]! / blockSize)) * blockSize;
  // best[j]: least cost of the first j sorted rows; cut[j]: where its last group starts.
  const best = new Array<number>(n + 1).fill(Infinity);
  const cut = new Array<number>(n + 1).fill(0);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    // The last group is sorted rows [i, j); its padded past is row j-1's.
    const p = padded(j - 1);
    for (let i = 0; i < j; i++) {
      const c = best[i]! + passCost + (j - i) * p;
      if (c < best[j]!) ((best[j] = c), (cut[j] = i));
    }
  }
  const groups: number[][] = [];
  for (let j = n; j > 0; j = cut[j]!) groups.unshift(order.slice(cut[j]!, j));
  return groups;
}
