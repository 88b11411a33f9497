/**
 * An SSE response over already-framed events (`event: x\ndata: {...}\n\n`), for fronts whose protocols name their
 * events. Same contract as core/respond.ts sseResponse: pulled one frame at a time, a client disconnect aborts the
 * upstream, a failure after the start becomes the protocol's own error event, onEnd runs once.
 */
import { asGatewayError, type GatewayError } from '../core/errors.js';
import type { RequestContext } from '../core/request-context.js';
import { eventStreamResponse, type SseOptions } from '../core/respond.js';

const encoder = new TextEncoder();

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function framedSseResponse(
  frames: AsyncIterable<string>,
  ctx: RequestContext,
  opts: Pick<SseOptions, 'onEnd' | 'abort'>,
  errorFrame: (e: GatewayError) => string,
): Response {
  const iterator = frames[Symbol.asyncIterator]();
  let finished = false;
  const finish = (outcome: { error?: unknown; cancelled: boolean }) => {
    if (finished) return;
    finished = true;
    opts.onEnd(outcome);
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) {
            controller.close();
            finish({ cancelled: false });
            return;
          }
          controller.enqueue(encoder.encode(next.value));
        } catch (err) {
          if (finished) return;
          const e = asGatewayError(err);
          ctx.errorCode = e.code;
          controller.enqueue(encoder.encode(errorFrame(e)));
          controller.close();
          finish({ error: err, cancelled: false });
        }
      },
      async cancel() {
        opts.abort();
        finish({ cancelled: true });
        await iterator.return?.().catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return eventStreamResponse(body, ctx);
}
