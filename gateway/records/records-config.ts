/** Config for request records and the price table that turns usage into cost. */
import { z } from 'zod';

export const recordsSchema = z.strictObject({
  /** jsonl: files with rotation (default); redis: a stream shared by replicas (needs `redis`); none: off. */
  sink: z.enum(['jsonl', 'redis', 'none']).default('jsonl'),
  dir: z.string().default('records'),
  /** Rotate a day's file when it grows past this. */
  max_file_bytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  redis_stream: z.string().default('switchyard:records'),
  /** Approximate length the Redis stream is trimmed to. */
  max_len: z.number().int().positive().default(1_000_000),
  /** Records waiting to be written; beyond this they are dropped (and counted), never blocking a request. */
  queue_max: z.number().int().positive().default(10_000),
});

const price = z.strictObject({ input_per_m: z.number().nonnegative(), output_per_m: z.number().nonnegative() });

export const pricesSchema = z.strictObject({
  /** Per client-facing model name: USD per million input and output tokens on the cloud. */
  models: z.record(z.string(), price).default({}),
  /** USD per million tokens (input + output) on the edge, e.g. amortised hardware. */
  edge_per_m: z.number().nonnegative().default(0),
});

export type RecordsConfig = z.infer<typeof recordsSchema>;
export type PricesConfig = z.infer<typeof pricesSchema>;
