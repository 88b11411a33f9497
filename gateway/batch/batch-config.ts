/** The `batch:` config section: where batch files live and how much of the edge idle batches may fill. */
import { z } from 'zod';

export const batchSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Files and batch states (JSON + JSONL) on local disk. */
  dir: z.string().default('.cache/switchyard/batches'),
  max_file_bytes: z
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  /** Batch lines in flight at most (whatever their destination). */
  max_concurrency: z.number().int().positive().default(4),
  /**
   * Batch lines start only while every edge engine has no interactive request waiting and runs fewer sequences than
   * this share of its batch slots, so batches fill idle capacity and never queue ahead of interactive requests.
   */
  edge_share: z.number().min(0).max(1).default(0.5),
  /**
   * When the edge has had no idle capacity for `after_ms`, up to `max_lines` lines the policy lets go to upstream `to`
   * are sent as one batch to that upstream's own Batch API (/files + /batches), priced at its `batch_discount`.
   */
  overflow: z
    .strictObject({
      to: z.string().min(1),
      after_ms: z.number().int().nonnegative().default(5_000),
      max_lines: z.number().int().positive().default(1_000),
      poll_ms: z.number().int().positive().default(5_000),
    })
    .optional(),
});

export type BatchConfig = z.infer<typeof batchSchema>;
