/** Messages between the gateway thread and the embedding worker. Vectors travel as one transferred buffer. */
import { z } from 'zod';

export const embedderOptionsSchema = z.strictObject({
  modelDir: z.string().min(1),
  modelId: z.string().min(1),
  /** Inputs per forward pass (across requests): larger batches amortise the call, padding costs the rest. */
  maxBatch: z.number().int().positive().default(32),
  /** Padded tokens per forward pass (batch x longest input). */
  maxBatchTokens: z.number().int().positive().default(8192),
  threads: z.number().int().positive().default(1),
});
export type EmbedderOptionsInput = z.input<typeof embedderOptionsSchema>;
export type EmbedderOptions = z.output<typeof embedderOptionsSchema>;

export type EmbeddingErrorReason = 'invalid_prompt' | 'context_length' | 'unavailable';

export type ToEmbedder = { type: 'embed'; id: string; texts: string[] } | { type: 'cancel'; id: string } | { type: 'shutdown' };

export type FromEmbedder =
  | { type: 'ready'; model: string; dimensions: number; maxTokens: number; file: string }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: string; dimensions: number; vectors: Float32Array; promptTokens: number }
  | { type: 'error'; id: string; reason: EmbeddingErrorReason; message: string };

/** What the embed call resolves to: unit vectors in input order and the tokens they took. */
export interface EmbeddingResult {
  vectors: Float32Array[];
  promptTokens: number;
}
