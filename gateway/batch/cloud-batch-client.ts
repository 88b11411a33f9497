/** A cloud upstream's own Batch API (OpenAI's /files + /batches), spoken with fetch: upload, create, poll, collect. */
import { z } from 'zod';
import type { BatchEndpoint, BatchLine, BatchResultLine } from './batch-types.js';

const fileSchema = z.looseObject({ id: z.string() });
const batchSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
});
const resultLineSchema = z.looseObject({
  id: z.string().optional(),
  custom_id: z.string(),
  response: z.looseObject({ status_code: z.number(), request_id: z.string().optional(), body: z.unknown() }).nullish(),
  error: z.looseObject({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

const FINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);
/** One call to the cloud's batch API: a hung connection must not stall the local batch that waits on it. */
const REQUEST_TIMEOUT_MS = 60_000;

function parseResultLine(raw: string): z.infer<typeof resultLineSchema> | undefined {
  try {
    const r = resultLineSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export class CloudBatchClient {
  constructor(
    /** Base URL with the version path, as in the upstream's config (https://api.openai.com/v1). */
    private readonly baseUrl: string,
    private readonly apiKey: string | undefined,
  ) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.apiKey) headers.set('authorization', `Bearer ${this.apiKey}`);
    const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, { ...init, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`cloud batch API ${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res;
  }

  /** Uploads the lines and creates the batch; returns the remote batch id. */
  async submit(endpoint: BatchEndpoint, lines: readonly BatchLine[]): Promise<string> {
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob([lines.map((l) => JSON.stringify(l)).join('\n') + '\n'], { type: 'application/jsonl' }), 'switchyard-overflow.jsonl');
    const file = fileSchema.parse(await (await this.request('/files', { method: 'POST', body: form })).json());
    const batch = batchSchema.parse(
      await (
        await this.request('/batches', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input_file_id: file.id, endpoint, completion_window: '24h' }),
        })
      ).json(),
    );
    return batch.id;
  }

  /** Polls until the batch ends, then reads its output and error files. Lines the cloud did not answer are absent. */
  async collect(remoteId: string, pollMs: number, signal?: AbortSignal): Promise<BatchResultLine[]> {
    for (;;) {
      const b = batchSchema.parse(await (await this.request(`/batches/${encodeURIComponent(remoteId)}`)).json());
      if (FINAL.has(b.status)) {
        const out: BatchResultLine[] = [];
        for (const id of [b.output_file_id, b.error_file_id]) {
          if (!id) continue;
          const text = await (await this.request(`/files/${encodeURIComponent(id)}/content`)).text();
          for (const raw of text.split('\n')) {
            if (!raw.trim()) continue;
            // One malformed line must not drop every answer (they would all run again locally, paid twice): it is
            // skipped, and the line it should have answered runs locally like any line the cloud did not answer.
            const l = parseResultLine(raw);
            if (!l) continue;
            out.push({
              id: l.id ?? `batch_req_${l.custom_id}`,
              custom_id: l.custom_id,
              response: l.response ? { status_code: l.response.status_code, request_id: l.response.request_id ?? '', body: l.response.body } : null,
              error: l.error ? { code: l.error.code ?? 'cloud_batch_error', message: l.error.message ?? 'The cloud batch failed this line.' } : null,
            });
          }
        }
        return out;
      }
      if (signal?.aborted) throw new Error('closed');
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
