/** What one sequence contributes to a forward pass, and the KV pool's shape: shared by the runner and the load proof. */

export interface KvLayout {
  layers: number;
  kvHeads: number;
  headDim: number;
  blockSize: number;
  numBlocks: number;
}

export interface ForwardEntry {
  /** Tokens whose K/V is not in the pool yet (a prefill chunk, or one decode token). */
  tokens: ArrayLike<number>;
  /** Tokens of this sequence already in the pool, before `tokens` (= position of tokens[0]). */
  startPos: number;
  /** Block ids covering positions [0, startPos + tokens.length). */
  blockTable: ArrayLike<number>;
}
