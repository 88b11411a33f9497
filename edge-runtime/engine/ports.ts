/** What the engine core needs from the tokenizer and the sampler; adapters bind the concrete rooms to these. */
import type { ChatTool, ChatTurn, EngineSampling } from './protocol.js';
import type { TextSink } from './request-state.js';

export interface TokenizerPort {
  readonly eosIds: readonly number[];
  /** Renders chat messages (and tools) with the model's chat template, generation prompt appended, and encodes them. */
  encodeChat(messages: readonly ChatTurn[], tools?: readonly ChatTool[]): number[];
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
    ctx: {
      promptTokens: readonly number[];
      outputCounts: Map<number, number>;
      rng: () => number;
      topLogprobs: number | undefined;
      /** Bitmask of allowed tokens (bit i of word i>>5), from a grammar; absent = every token allowed. */
      allowed?: Int32Array;
    },
  ): SampleResult;
}

export type { GrammarPort, TokenMatcher } from './grammar-port.js';
