/** What the scheduler needs from the paged KV block manager (kept narrow so the scheduler never sees tensors). */

export interface KvPort {
  readonly blockSize: number;
  /** Blocks free now, counting evictable cached blocks. */
  numFreeBlocks(): number;
  /** Whether a sequence with these prompt tokens can be admitted (prefix hits counted). */
  canAllocate(promptTokens: readonly number[]): boolean;
  /** Allocates blocks for the prompt; returns how many leading tokens already have K/V (prefix cache). */
  allocate(seqId: string, promptTokens: readonly number[]): { cachedTokens: number };
  /** Makes room for `count` more tokens; returns the block copies the engine must do first (copy-on-write). */
  append(seqId: string, count: number): Array<{ src: number; dst: number }>;
  /** Whether `count` more tokens fit for this sequence without preempting anyone. */
  canAppend(seqId: string, count: number): boolean;
  /** Records tokens whose K/V is now written, so full blocks enter the prefix cache. */
  commit(seqId: string, tokens: readonly number[]): void;
  /** Shares all of parent's blocks with a new child (n > 1). */
  fork(parentId: string, childId: string): void;
  free(seqId: string): void;
  blockTable(seqId: string): readonly number[];
}
