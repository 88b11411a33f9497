/**
 * OpenAI's Batch API for the fake cloud: POST /files (multipart, purpose batch), GET /files/:id/content, POST /batches,
 * GET /batches/:id. A batch completes on its first retrieval; each line is answered as the fake answers a plain request
 * (echo of the last user message, word-count usage).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface FakeBatchApi {
  /** Every line received in an uploaded batch file, in order (privacy tests assert on these). */
  readonly lines: Array<{ custom_id: string; body: Record<string, unknown> }>;
  readonly batchesCreated: number;
  /** Fault: the output file's first line is not JSON (a truncated or corrupted download). */
  corruptFirstOutputLine: boolean;
}

const words = (t: string) => Math.max(1, t.split(/\s+/).filter(Boolean).length);

function answerLine(body: Record<string, unknown>, reply: string | undefined, n: number): Record<string, unknown> {
  const msgs = Array.isArray(body['messages']) ? (body['messages'] as Array<{ role?: string; content?: unknown }>) : [];
  const last = [...msgs].reverse().find((m) => m.role === 'user');
  const input = typeof last?.content === 'string' ? last.content : String(body['prompt'] ?? '');
  const text = reply ?? `echo: ${input}`;
  return {
    id: `fake-batch-${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: String(body['model'] ?? 'fake-model'),
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: words(input), completion_tokens: words(text), total_tokens: words(input) + words(text) },
  };
}

export function createFakeBatchApi(reply: string | undefined): FakeBatchApi & {
  handle(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): Promise<boolean>;
} {
  const files = new Map<string, { content: string; filename: string; purpose: string }>();
  const batches = new Map<string, { object: Record<string, unknown>; inputFileId: string }>();
  const lines: FakeBatchApi['lines'] = [];
  let seq = 0;
  let created = 0;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const api = {
    lines,
    corruptFirstOutputLine: false,
    get batchesCreated() {
      return created;
    },
    async handle(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): Promise<boolean> {
      if (req.method === 'POST' && path === '/files') {
        const form = await new Request('http://fake/files', {
          method: 'POST',
          headers: { 'content-type': String(req.headers['content-type'] ?? '') },
          body: new Uint8Array(raw),
        }).formData();
        const file = form.get('file');
        if (!(file instanceof Blob)) {
          json(res, 400, { error: { message: 'file is required', type: 'invalid_request_error', param: 'file', code: null } });
          return true;
        }
        const id = `file-fake-${++seq}`;
        const content = await file.text();
        files.set(id, { content, filename: file instanceof File ? file.name : 'upload.jsonl', purpose: String(form.get('purpose') ?? '') });
        json(res, 200, {
          id,
          object: 'file',
          bytes: content.length,
          created_at: Math.floor(Date.now() / 1000),
          filename: files.get(id)!.filename,
          purpose: 'batch',
          status: 'processed',
        });
        return true;
      }
      const content = /^\/files\/([^/]+)\/content$/.exec(path);
      if (req.method === 'GET' && content) {
        const f = files.get(content[1]!);
        if (!f) json(res, 404, { error: { message: 'no such file', type: 'invalid_request_error', param: null, code: 'not_found' } });
        else {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(f.content);
        }
        return true;
      }
      if (req.method === 'POST' && path === '/batches') {
        const body = JSON.parse(raw.toString('utf8')) as { input_file_id?: string; endpoint?: string };
        const input = files.get(body.input_file_id ?? '');
        if (!input) {
          json(res, 400, { error: { message: 'unknown input_file_id', type: 'invalid_request_error', param: 'input_file_id', code: null } });
          return true;
        }
        for (const l of input.content.split('\n').filter((x) => x.trim()))
          lines.push(JSON.parse(l) as { custom_id: string; body: Record<string, unknown> });
        created++;
        const id = `batch-fake-${++seq}`;
        const object = {
          id,
          object: 'batch',
          endpoint: body.endpoint,
          input_file_id: body.input_file_id,
          status: 'in_progress',
          output_file_id: null,
          error_file_id: null,
        };
        batches.set(id, { object, inputFileId: body.input_file_id! });
        json(res, 200, object);
        return true;
      }
      const batch = /^\/batches\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && batch) {
        const b = batches.get(batch[1]!);
        if (!b) {
          json(res, 404, { error: { message: 'no such batch', type: 'invalid_request_error', param: null, code: 'not_found' } });
          return true;
        }
        if (b.object['status'] === 'in_progress') {
          const out = files
            .get(b.inputFileId)!
            .content.split('\n')
            .filter((x) => x.trim())
            .map((l, i) => {
              const line = JSON.parse(l) as { custom_id: string; body: Record<string, unknown> };
              return JSON.stringify({
                id: `batch_req_${i}`,
                custom_id: line.custom_id,
                response: { status_code: 200, request_id: `req_${i}`, body: answerLine(line.body, reply, i) },
                error: null,
              });
            });
          const outId = `file-fake-${++seq}`;
          if (api.corruptFirstOutputLine && out.length > 0) out[0] = out[0]!.slice(0, 20);
          files.set(outId, { content: out.join('\n') + '\n', filename: 'output.jsonl', purpose: 'batch_output' });
          Object.assign(b.object, { status: 'completed', output_file_id: outId });
        }
        json(res, 200, b.object);
        return true;
      }
      return false;
    },
  };
  return api;
}
