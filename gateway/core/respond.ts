/** Turns upstream results into client responses: JSON, or SSE pulled chunk by chunk with no buffering. */
import { asGatewayError } from './errors.js';
import type { RequestContext } from './request-context.js';
import type { Usage } from './types.js';
import { hasReadyEvents } from './ready-events.js';

const encoder = new TextEncoder();
const DONE_TEXT = 'data: [DONE]\n\n';
const DONE = encoder.encode(DONE_TEXT);

/** Bounds on one SSE write: the events batched into it, and its size. */
const MAX_BATCH_EVENTS = 64;
const MAX_BATCH_CHARS = 65_536;
const NOT_YET = Symbol('not yet');
/**
 * Settles after a few microtask turns: an iterator step that has not settled by then waits for I/O. Enough turns for
 * an event already buffered in the generators (upstream → shared stream → here) to come through; fewer only means
 * smaller batches, never a wait.
 */
const READY_TURNS = 8;
function notYetAfterMicrotasks(): Promise<typeof NOT_YET> {
  let p: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < READY_TURNS; i++) p = p.then();
  return p.then(() => NOT_YET);
}

export function jsonResponse(body: unknown, status: number, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/**
 * Pulls usage out of a chunk cheaply: only chunks with a usage object are parsed. With include_usage, OpenAI and vLLM
 * put `"usage":null` in every chunk before the last: those are skipped without a JSON.parse each.
 */
const USAGE_OBJECT = /"usage"\s*:\s*\{/;
function usageInChunk(data: string): { usage: Usage; usageOnly: boolean } | undefined {
  if (!data.includes('"usage"') || !USAGE_OBJECT.test(data)) return undefined;
  try {
    const chunk = JSON.parse(data) as { usage?: Usage | null; choices?: unknown[] };
    if (!chunk.usage || typeof chunk.usage.prompt_tokens !== 'number') return undefined;
    return { usage: chunk.usage, usageOnly: Array.isArray(chunk.choices) && chunk.choices.length === 0 };
  } catch {
    return undefined;
  }
}

export interface SseOptions {
  /** Whether the client asked for the usage chunk; when not, one the gateway asked for is dropped. */
  clientWantsUsage: boolean;
  /** Called once when the stream has ended, for any reason. */
  onEnd: (outcome: { error?: unknown; cancelled: boolean }) => void;
  /** Aborts the upstream call; called when the client goes away. */
  abort: () => void;
}

/**
 * An SSE response over an upstream's event iterator. Pull-based: the next upstream event is read only when the client
 * side asks for more, so backpressure reaches the upstream and a disconnect cancels it. A failure after the stream has
 * started is sent as a final `data: {"error":...}` event, which the openai SDK raises: never a silent end.
 */
export function sseResponse(events: AsyncIterable<string>, ctx: RequestContext, opts: SseOptions): Response {
  const iterator = events[Symbol.asyncIterator]();
  const ready = hasReadyEvents(iterator) ? iterator : undefined;
  let finished = false;
  const finish = (outcome: { error?: unknown; cancelled: boolean }) => {
    if (finished) return;
    finished = true;
    opts.onEnd(outcome);
  };
  // A next() that was not ready when a batch was sent: the following pull awaits it first.
  let pending: Promise<IteratorResult<string>> | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Events already parsed (one upstream read often carries several) leave in one write: a socket write per
        // event was the largest per-chunk cost in the hot-path profile. Only ready events join a batch; nothing
        // waits for the upstream once one event is in hand.
        let out = '';
        let count = 0;
        try {
          for (;;) {
            let next: IteratorResult<string>;
            if (out === '') {
              const p = pending ?? iterator.next();
              pending = undefined;
              next = await p;
            } else if (ready) {
              // Ask the source what it already holds: no promise per event.
              const r = ready.nextIfReady();
              if (r === undefined) {
                controller.enqueue(encoder.encode(out));
                return;
              }
              next = r;
            } else {
              const p = iterator.next();
              const r = await Promise.race([p, notYetAfterMicrotasks()]);
              if (r === NOT_YET) {
                pending = p;
                controller.enqueue(encoder.encode(out));
                return;
              }
              next = r;
            }
            if (next.done) {
              controller.enqueue(out === '' ? DONE : encoder.encode(out + DONE_TEXT));
              controller.close();
              finish({ cancelled: false });
              return;
            }
            const data = next.value;
            if (ctx.ttftMs === undefined) ctx.ttftMs = Date.now() - ctx.startedAt;
            const u = usageInChunk(data);
            if (u) {
              ctx.usage = u.usage;
              if (u.usageOnly && !opts.clientWantsUsage) continue;
            }
            out += `data: ${data}\n\n`;
            if (++count >= MAX_BATCH_EVENTS || out.length >= MAX_BATCH_CHARS) {
              controller.enqueue(encoder.encode(out));
              return;
            }
          }
        } catch (err) {
          if (finished) return;
          const e = asGatewayError(err);
          ctx.errorCode = e.code;
          // Events before the failure still go out, then the error event.
          controller.enqueue(encoder.encode(`${out}data: ${JSON.stringify(e.toJSON())}\n\n`));
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

/** An SSE body as a 200 response: no caching, no proxy buffering (each event must reach the client as it is made). */
export function eventStreamResponse(body: ReadableStream<Uint8Array>, ctx: RequestContext): Response {
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...ctx.headers,
    },
  });
}
