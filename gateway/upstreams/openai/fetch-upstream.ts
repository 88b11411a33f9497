/**
 * The OpenAI-compatible upstream over the platform's `fetch` (Cloudflare Workers: no undici, no sockets of our own).
 * Same wire behaviour as OpenAICompatibleUpstream: usage asked for on streams, SSE parsed by SseParser, errors mapped by
 * upstream-errors.ts. Timeouts are per call (timers run while a request is in flight); nothing runs between requests.
 */
import type { Endpoint, JsonObject } from '../../core/types.js';
import type { UpstreamConfig } from '../../config/schema.js';
import type { Upstream, UpstreamCall, UpstreamLoad, UpstreamModel, UpstreamResult } from '../../core/upstream.js';
import { usageOf } from '../../core/upstream.js';
import { onAbort } from '../../core/abort.js';
import type { CancelSignal } from '../../core/cancel.js';
import { isJsonObject } from '../../core/validate.js';
import { GatewayError } from '../../core/errors.js';
import { SseParser } from './sse-parser.js';
import { deadlineError, upstreamStatusError, upstreamTransportError } from './upstream-errors.js';

const PATHS: Record<Endpoint, string> = {
  'chat.completions': '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

const ERROR_BODY_LIMIT = 16_384;

/** Why the call's own controller fired: the error that explains it (the client's abort is passed through as is). */
type Expiry = 'total' | 'first_byte' | 'idle';

/** Bounded read of an error body: a misbehaving upstream must not make us buffer megabytes. */
async function readErrorBody(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.length > ERROR_BODY_LIMIT) break;
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return text;
}

export class FetchUpstream implements Upstream {
  readonly id: string;
  readonly zone;
  readonly models: readonly UpstreamModel[];
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private inFlight = 0;

  constructor(
    private readonly cfg: UpstreamConfig,
    private readonly fetchFn: typeof fetch = (input, init) => fetch(input, init),
  ) {
    this.id = cfg.id;
    this.zone = cfg.zone;
    this.models = cfg.models.map((m) =>
      typeof m === 'string' ? { id: m, upstreamModel: m, ownedBy: cfg.id } : { id: m.id, upstreamModel: m.upstream_model ?? m.id, ownedBy: cfg.id },
    );
    this.base = cfg.url.replace(/\/+$/, '');
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...cfg.headers,
      ...(cfg.api_key ? { authorization: `Bearer ${cfg.api_key}` } : {}),
    };
  }

  load(): UpstreamLoad {
    return { inFlight: this.inFlight };
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  async call(call: UpstreamCall): Promise<UpstreamResult> {
    let body = call.body;
    if (call.stream && this.cfg.stream_usage && call.endpoint !== 'embeddings') {
      const so = body['stream_options'];
      body = { ...body, stream_options: { ...(isJsonObject(so) ? so : {}), include_usage: true } };
    }
    const totalMs = Math.min(
      this.cfg.timeouts.total_ms,
      call.deadline !== undefined ? Math.max(1, call.deadline - Date.now()) : Number.POSITIVE_INFINITY,
    );
    const controller = new AbortController();
    let expired: Expiry | undefined;
    const expire = (why: Expiry) => {
      expired ??= why;
      controller.abort(new Error(`${why} timeout`));
    };
    const totalTimer = setTimeout(() => expire('total'), totalMs);
    // fetch cannot tell connecting from waiting for headers: one timer covers both.
    const headersTimer = setTimeout(() => expire('first_byte'), this.cfg.timeouts.connect_ms + this.cfg.timeouts.first_byte_ms);
    const unlink = onAbort(call.signal, (reason) => controller.abort(reason));
    this.inFlight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight--;
      clearTimeout(totalTimer);
      clearTimeout(headersTimer);
      unlink();
    };
    const fail = (err: unknown, phase: 'connect' | 'response' | 'stream') => this.failure(err, call.signal, expired, phase);

    let res: Response;
    try {
      res = await this.fetchFn(this.base + PATHS[call.endpoint], {
        method: 'POST',
        headers: { ...this.headers, 'x-request-id': call.requestId, ...(call.traceparent ? { traceparent: call.traceparent } : {}) },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (err) {
      release();
      throw fail(err, 'connect');
    }
    clearTimeout(headersTimer);
    if (res.status < 200 || res.status >= 300) {
      const text = await readErrorBody(res.body).catch(() => '');
      release();
      throw upstreamStatusError(this.id, res.status, text, res.headers.get('retry-after') ?? undefined);
    }
    if (call.stream && (res.headers.get('content-type') ?? '').includes('text/event-stream') && res.body) {
      return { kind: 'stream', events: this.events(res.body, controller, expire, fail, release) };
    }
    try {
      const parsed: unknown = JSON.parse(await res.text());
      if (!isJsonObject(parsed)) throw upstreamStatusError(this.id, 502, 'the response was not a JSON object', undefined);
      return { kind: 'json', body: parsed, usage: usageOf(parsed) };
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (err instanceof SyntaxError) throw upstreamStatusError(this.id, 502, 'the response was not valid JSON', undefined);
      throw fail(err, 'response');
    } finally {
      release();
    }
  }

  /** fetch reports every network failure as a bare TypeError: name the likely cause from its message. */
  private failure(err: unknown, client: CancelSignal, expired: Expiry | undefined, phase: 'connect' | 'response' | 'stream'): Error {
    if (client.aborted) return client.reason instanceof Error ? client.reason : new Error('aborted by client');
    if (expired === 'total') return deadlineError(this.id);
    if (expired === 'first_byte') return upstreamTransportError(this.id, { code: 'UND_ERR_HEADERS_TIMEOUT', cause: err }, phase);
    if (expired === 'idle') return upstreamTransportError(this.id, { code: 'UND_ERR_BODY_TIMEOUT', cause: err }, phase);
    // Node's fetch carries the socket error as `cause.code`; workerd only says it in the message.
    const causeCode = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    const message = err instanceof Error ? err.message : String(err);
    const code =
      typeof causeCode === 'string'
        ? causeCode
        : /refused/i.test(message)
          ? 'ECONNREFUSED'
          : /not found|dns|resolve/i.test(message)
            ? 'ENOTFOUND'
            : 'ECONNRESET';
    return upstreamTransportError(this.id, Object.assign(new Error(message), { code }), phase);
  }

  private async *events(
    body: ReadableStream<Uint8Array>,
    controller: AbortController,
    expire: (why: Expiry) => void,
    fail: (err: unknown, phase: 'stream') => Error,
    release: () => void,
  ): AsyncGenerator<string> {
    const reader = body.getReader();
    const parser = new SseParser();
    let idle: ReturnType<typeof setTimeout> | undefined;
    try {
      for (;;) {
        idle = setTimeout(() => expire('idle'), this.cfg.timeouts.idle_ms);
        const { done, value } = await reader.read();
        clearTimeout(idle);
        const payloads = done ? parser.end() : parser.push(value);
        for (const data of payloads) {
          if (data === '[DONE]') return;
          yield data;
        }
        // The body ended without [DONE]: the stream was cut.
        if (done) throw upstreamTransportError(this.id, { code: 'ECONNRESET' }, 'stream');
      }
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      throw fail(err, 'stream');
    } finally {
      clearTimeout(idle);
      if (!controller.signal.aborted) controller.abort(new Error('stream closed'));
      void reader.cancel().catch(() => undefined);
      release();
    }
  }
}
