/** Sends a batch line through the app's own fetch as the batch's creator, so it takes exactly an interactive request's path. */
import type { Principal } from '../core/principal.js';
import type { LineSender } from './batch-service.js';

type AppFetch = (req: Request, env: { internalPrincipal: Principal }) => Response | Promise<Response>;

export function appLineSender(fetch: AppFetch): LineSender {
  return async (line, principal, batchId) => {
    // Batch answers are whole JSON bodies: a line asking to stream is answered without streaming, as OpenAI does.
    const { stream: _stream, stream_options: _opts, ...body } = line.body;
    const res = await fetch(
      new Request(`http://batch.internal${line.url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-switchyard-batch': batchId },
        body: JSON.stringify(body),
      }),
      { internalPrincipal: principal },
    );
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, requestId: res.headers.get('x-request-id') ?? '' };
  };
}
