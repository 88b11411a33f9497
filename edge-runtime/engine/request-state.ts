/** Per-request bookkeeping inside the engine: its sequences (one per choice), and how text leaves them. */
import type { EngineRequest, FromEngine, TokenLogprob } from './protocol.js';
import type { Sequence } from '../scheduler/sequence.js';
import type { TokenMatcher } from './grammar-port.js';

/** Per choice: turns token ids into safe text (whole UTF-8 characters, stop strings withheld). */
export interface TextSink {
  /** Feeds one token; returns text to emit now and whether a stop string matched. */
  push(token: number): { text: string; stopped: boolean };
  /** Text withheld at the end (partial stop-string candidates, incomplete characters). */
  flush(): string;
}

export interface ChoiceState {
  seq: Sequence;
  sink: TextSink;
  /** Token counts generated so far, for frequency/presence penalties. */
  counts: Map<number, number>;
  rng: () => number;
  finished: boolean;
  pendingLogprobs: TokenLogprob[];
  /** The grammar this choice's tokens must keep to (constrained decoding), with the mask for its next token. */
  matcher?: TokenMatcher;
}

export class RequestState {
  readonly choices: ChoiceState[] = [];
  cancelled = false;
  completionTokens = 0;
  finishedChoices = 0;
  /** One grammar matcher per choice, made at admission when the request has an output constraint. */
  matchers: TokenMatcher[] = [];

  constructor(
    readonly req: EngineRequest,
    readonly promptTokens: readonly number[],
    readonly maxTokens: number,
    readonly emit: (m: FromEngine) => void,
  ) {}
}
