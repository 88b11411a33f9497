/** Options for starting an engine, validated where they enter (config or CLI). */
import { z } from 'zod';

export const engineOptionsSchema = z.strictObject({
  modelDir: z.string().min(1),
  /** Name clients use for this model. */
  modelId: z.string().min(1),
  variant: z.enum(['fp32', 'int8', 'q4']).default('q4'),
  kvBudgetBytes: z
    .number()
    .int()
    .positive()
    .default(256 * 1024 * 1024),
  blockSize: z.number().int().positive().max(256).default(16),
  maxNumSeqs: z.number().int().positive().default(32),
  maxBatchedTokens: z.number().int().positive().default(512),
  /** onnxruntime intra-op threads; 0 lets ORT pick (all cores). */
  threads: z.number().int().nonnegative().default(0),
  /** How often the worker reports its stats to the gateway thread. */
  statsIntervalMs: z.number().int().positive().default(250),
});

export type EngineOptions = z.infer<typeof engineOptionsSchema>;
export type EngineOptionsInput = z.input<typeof engineOptionsSchema>;
