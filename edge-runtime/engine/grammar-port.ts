/** What the engine needs for constrained decoding: a matcher per sequence that masks tokens and follows the output. */
import type { OutputConstraint } from './protocol.js';

/** Where constrained decoding comes from: a matcher per sequence for a request's OutputConstraint. */
export interface GrammarPort {
  /** Compiles (cached) and returns a fresh matcher at the grammar's start; rejects when the constraint cannot be enforced. */
  matcher(c: OutputConstraint): Promise<TokenMatcher>;
}

export interface TokenMatcher {
  /** Allowed next tokens as a bitmask. */
  nextMask(): Promise<Int32Array>;
  /** Advances on a sampled token; false if the grammar rejects it. */
  accept(token: number): boolean;
  isTerminated(): boolean;
  dispose(): void;
}
