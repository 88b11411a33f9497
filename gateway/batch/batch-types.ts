/** The Batch API's wire objects (OpenAI's `file` and `batch`) and the state the gateway keeps for each batch. */
import { z } from 'zod';
import type { Principal } from '../core/principal.js';
import type { Endpoint } from '../core/types.js';

export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

/** One line of an input file, as OpenAI defines it. */
export const batchLineSchema = z.strictObject({
  custom_id: z.string().min(1).max(512),
  method: z.literal('POST'),
  url: z.enum(BATCH_ENDPOINTS),
  body: z.record(z.string(), z.unknown()),
});
export type BatchLine = z.infer<typeof batchLineSchema>;

export const createBatchSchema = z.strictObject({
  input_file_id: z.string().min(1),
  endpoint: z.enum(BATCH_ENDPOINTS),
  completion_window: z.literal('24h'),
  metadata: z.record(z.string(), z.string()).nullish(),
});

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  /** Which tenant owns it: never crosses tenants; not sent to clients. */
  tenant: string;
}

export type BatchStatus = 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';

export interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: BatchEndpoint;
  errors: { object: 'list'; data: Array<{ code: string; message: string; line: number | null; param: string | null }> } | null;
  input_file_id: string;
  completion_window: '24h';
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

/** What the gateway persists per batch: the wire object plus who runs its lines. */
export interface BatchState {
  batch: BatchObject;
  tenant: string;
  /** The creator's principal (key id, tenant, tags, limits; never the key itself): every line runs as it. */
  principal: Principal;
  /** Lines sent to a cloud upstream's Batch API and not yet collected: resumed (polled, not resent) after a restart. */
  overflow?: Array<{ remoteId: string; lines: OverflowLineMeta[] }>;
}

/** One answered line, as written to the output (2xx) or error file. */
export interface BatchResultLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

export const publicFile = (f: FileObject) => {
  const { tenant: _tenant, ...rest } = f;
  return rest;
};

/** What is kept (in the batch state) of a line sent to the cloud: enough to record it, no content. */
export interface OverflowLineMeta {
  custom_id: string;
  endpoint: Endpoint;
  model: string;
  upstreamModel: string;
  ruleId: string;
  policyVersion: string;
  tags: string[];
}
