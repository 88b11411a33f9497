/** One generated sequence (one choice of one request): its tokens, how many have KV in the pool, and its state. */

export type SeqState = 'waiting' | 'running' | 'finished';

export class Sequence {
  state: SeqState = 'waiting';
  /** Prompt followed by generated tokens. */
  readonly tokens: number[];
  /** Tokens whose K/V is in the pool (prefix-cache hits included). */
  computed = 0;
  /** Positions that have a KV slot allocated (prompt at admission, then one per decode step). */
  slots = 0;
  /** Tokens served from the prefix cache at the last admission. */
  cachedTokens = 0;
  /** Times this sequence was preempted and recomputed. */
  preemptions = 0;
  firstTokenAt: number | undefined;

  constructor(
    /** Unique across the engine: `${requestId}/${index}`. */
    readonly id: string,
    readonly requestId: string,
    readonly index: number,
    prompt: readonly number[],
    readonly arrival: number,
    readonly deadline: number | undefined,
  ) {
    this.tokens = [...prompt];
    this.promptLength = prompt.length;
  }

  readonly promptLength: number;

  get generated(): number {
    return this.tokens.length - this.promptLength;
  }

  /** Tokens still to run through the model before the next token can be sampled. */
  get pending(): number {
    return this.tokens.length - this.computed;
  }
}
