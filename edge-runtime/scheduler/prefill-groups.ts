/**
 * Groups one step's prefill chunks into forward passes. Every pass has a fixed cost (graph dispatch, weights streamed
 * through the cache once per pass), so chunks of several sequences share a pass; rows are left-padded to the longest
 * chunk, so a group only grows while its padded size stays within MAX_PADDING of its real tokens.
 */

/** A group's padded tokens (rows × longest chunk) may exceed its real tokens by at most this factor. */
export const MAX_PADDING = 1.25;

/**
 * Chunk indices per pass, longest chunks first. `lengths[i]` is chunk i's token count; `maxRows` caps rows per pass
 * (1 = one pass per chunk, for graphs whose rows depend on their batch neighbours).
 */
export function prefillGroups(lengths: readonly number[], maxRows = Infinity): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const groups: number[][] = [];
  let group: number[] = [];
  let longest = 0;
  let real = 0;
  for (const i of order) {
    const len = lengths[i]!;
    const fits = group.length > 0 && group.length < maxRows && (group.length + 1) * longest <= MAX_PADDING * (real + len);
    if (!fits && group.length > 0) {
      groups.push(group);
      group = [];
    }
    if (group.length === 0) ((longest = len), (real = 0));
    group.push(i);
    real += len;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
