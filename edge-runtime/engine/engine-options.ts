/** Options for starting an engine, validated where they enter (config or CLI). */
import { z } from 'zod';

/** The one place edge defaults live; the gateway's config schema and the CLI read them from here. */
export const ENGINE_DEFAULTS = {
  kvBudgetMb: 256,
  blockSize: 16,
  /** 32 measured best on this 2-core machine (bench:edge: 573 tok/s at 32 streams vs 484 at 16). */
  maxNumSeqs: 32,
  maxBatchedTokens: 512,
  variant: 'q4',
} as const;

export const engineOptionsSchema = z.strictObject({
  modelDir: z.string().min(1),
  /** Name clients use for this model. */
  modelId: z.string().min(1),
  variant: z.enum(['fp32', 'int8', 'q4']).default(ENGINE_DEFAULTS.variant),
  kvBudgetBytes: z
    .number()
    .int()
    .positive()
    .default(ENGINE_DEFAULTS.kvBudgetMb * 1024 * 1024),
  blockSize: z.number().int().positive().max(256).default(ENGINE_DEFAULTS.blockSize),
  maxNumSeqs: z.number().int().positive().default(ENGINE_DEFAULTS.maxNumSeqs),
  maxBatchedTokens: z.number().int().positive().default(ENGINE_DEFAULTS.maxBatchedTokens),
  /** onnxruntime intra-op threads; 0 lets ORT pick (all cores). */
  threads: z.number().int().nonnegative().default(0),
  /** How often the worker reports its stats to the gateway thread. */
  statsIntervalMs: z.number().int().positive().default(250),
});

export type EngineOptions = z.infer<typeof engineOptionsSchema>;
export type EngineOptionsInput = z.input<typeof engineOptionsSchema>;
