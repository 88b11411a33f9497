/** What the engine core needs from the tokenizer and the sampler; adapters bind the concrete rooms to these. */
import type { EngineSampling } from './protocol.js';
import type { TextSink } from './request-state.js';

export interface TokenizerPort {
  readonly eosIds: readonly number[];
  /** Renders chat messages with the model's chat template, generation prompt appended, and encodes them. */
  encodeChat(messages: ReadonlyArray<{ role: string; content: string }>): number[];
  /** Encodes a raw completion prompt (adding BOS where the tokenizer config says so). */
  encodeText(text: string): number[];
  /** A fresh detokenizer + stop-string matcher for one choice. */
  newSink(stop: readonly string[]): TextSink;
  /** Text and UTF-8 bytes of one token (for logprobs). */
  tokenInfo(id: number): { text: string; bytes: number[] };
  readonly vocabSize: number;
}

export interface SampleResult {
  token: number;
  /** Log-probability of the token; computed only when logprobs were requested (0 otherwise). */
  logprob: number;
  top?: Array<{ token: number; logprob: number }>;
}

export interface SamplerPort {
  /** A deterministic random stream for one choice (seeded when the request has a seed). */
  rng(seed: number | undefined, choice: number): () => number;
  sample(
    logits: Float32Array,
    p: EngineSampling,
    ctx: { promptTokens: readonly number[]; outputCounts: Map<number, number>; rng: () => number; topLogprobs: number | undefined },
  ): SampleResult;
}
