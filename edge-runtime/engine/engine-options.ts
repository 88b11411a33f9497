/** Options for starting an engine, validated where they enter (config or CLI). */
import { z } from 'zod';

/** The one place edge defaults live; the gateway's config schema and the CLI read them from here. */
export const ENGINE_DEFAULTS = {
  kvBudgetMb: 256,
  blockSize: 16,
  /** 32 measured best on this 2-core machine (bench:edge: 573 tok/s at 32 streams vs 484 at 16). */
  maxNumSeqs: 32,
  maxBatchedTokens: 512,
  /** The first file present in model/variants.ts AUTO_ORDER (q4 first), so any exported folder loads without flags. */
  variant: 'auto',
} as const;

export const engineOptionsSchema = z.strictObject({
  modelDir: z.string().min(1),
  /** Name clients use for this model. */
  modelId: z.string().min(1),
  /** 'auto' picks the first file present in model/variants.ts AUTO_ORDER; a name or file under onnx/ forces one. */
  variant: z
    .union([z.enum(['auto', 'fp32', 'int8', 'q4', 'bnb4', 'q4f16', 'fp16', 'qint8', 'quint8']), z.string().regex(/\.onnx$/)])
    .default(ENGINE_DEFAULTS.variant),
  /** 'auto' tries paged, then assembled, then assembled-grouped, each proven at load (engine/model-runner.ts). */
  executionPath: z.enum(['auto', 'paged', 'assembled', 'assembled-grouped']).default('auto'),
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
  /** onnxruntime's pool threads spin for work: 'off' (sleep), 'within-run' (best on an idle box), 'on' (model-runner.ts). */
  threadSpinning: z.enum(['off', 'within-run', 'on']).default('off'),
  /** How often the worker reports its stats to the gateway thread. */
  statsIntervalMs: z.number().int().positive().default(250),
});

export type EngineOptions = z.infer<typeof engineOptionsSchema>;
export type EngineOptionsInput = z.input<typeof engineOptionsSchema>;
