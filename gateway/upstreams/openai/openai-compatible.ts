/** A cloud (or remote edge / vLLM / another Switchyard) upstream speaking the OpenAI wire format, over an undici keep-alive pool. */
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import type { Endpoint, JsonObject } from '../../core/types.js';
import type { UpstreamConfig } from '../../config/schema.js';
import type { Upstream, UpstreamCall, UpstreamLoad, UpstreamModel, UpstreamResult } from '../../core/upstream.js';
import { usageOf } from '../../core/upstream.js';
import { UpstreamSseEvents } from './upstream-sse-events.js';
import { deadlineError, upstreamStatusError, upstreamTransportError } from './upstream-errors.js';
import { onAbort } from '../../core/abort.js';
import { Cancel, type CancelSignal } from '../../core/cancel.js';
import { isJsonObject } from '../../core/validate.js';

const PATHS: Record<Endpoint, string> = {
  'chat.completions': '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
};

/** Bounded read of an error body: a misbehaving upstream must not make us buffer megabytes. */
async function readErrorBody(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    text += Buffer.from(chunk as Uint8Array).toString('utf8');
    if (text.length > 16_384) break;
  }
  body.destroy();
  return text;
}

export class OpenAICompatibleUpstream implements Upstream {
  readonly id: string;
  readonly zone;
  readonly models: readonly UpstreamModel[];
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;
  private inFlight = 0;

  constructor(private readonly cfg: UpstreamConfig) {
    this.id = cfg.id;
    this.zone = cfg.zone;
    this.models = cfg.models.map((m) =>
      typeof m === 'string' ? { id: m, upstreamModel: m, ownedBy: cfg.id } : { id: m.id, upstreamModel: m.upstream_model ?? m.id, ownedBy: cfg.id },
    );
    const url = new URL(cfg.url);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: cfg.max_connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { timeout: cfg.timeouts.connect_ms },
      headersTimeout: cfg.timeouts.first_byte_ms,
      bodyTimeout: cfg.timeouts.idle_ms,
    });
    if (cfg.metrics_url) {
      void this.pollMetrics();
      this.metricsTimer = setInterval(() => void this.pollMetrics(), cfg.metrics_poll_ms);
      this.metricsTimer.unref();
    }
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...cfg.headers,
      ...(cfg.api_key ? { authorization: `Bearer ${cfg.api_key}` } : {}),
    };
  }

  load(): UpstreamLoad {
    return { inFlight: this.inFlight, ...this.reported };
  }

  private reported: Pick<UpstreamLoad, 'queueDepth' | 'kvFreeFraction'> = {};
  private metricsTimer: ReturnType<typeof setInterval> | undefined;

  /** Reads vLLM's (or a Switchyard edge server's) gauges (waiting requests, KV cache usage) from its /metrics text. */
  async pollMetrics(): Promise<void> {
    if (!this.cfg.metrics_url) return;
    try {
      const res = await fetch(this.cfg.metrics_url, { signal: AbortSignal.timeout(1_000) });
      if (!res.ok) return;
      const text = await res.text();
      const gauge = (names: string[]) => {
        for (const line of text.split('\n')) {
          if (line.startsWith('#')) continue;
          const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+([-+\d.eE]+|NaN)/.exec(line);
          if (m && names.includes(m[1]!)) return Number(m[2]);
        }
        return undefined;
      };
      // vLLM's names, or a remote `switchyard edge serve` (its edge gauges) in an edge fleet.
      const waiting = gauge(['vllm:num_requests_waiting', 'switchyard_edge_queue_depth']);
      const usage = gauge(['vllm:gpu_cache_usage_perc', 'vllm:kv_cache_usage_perc', 'switchyard_edge_kv_usage_ratio']);
      this.reported = { queueDepth: waiting, kvFreeFraction: usage === undefined ? undefined : Math.max(0, 1 - usage) };
    } catch {
      // An unreachable metrics endpoint leaves the last reading; the breaker judges the upstream itself.
    }
  }

  async ready(): Promise<boolean> {
    return !this.pool.closed && !this.pool.destroyed;
  }

  async call(call: UpstreamCall): Promise<UpstreamResult> {
    let body = call.body;
    // Ask for usage on every stream so it can be accounted; the gateway strips the extra chunk if the client did not ask.
    if (call.stream && this.cfg.stream_usage && call.endpoint !== 'embeddings') {
      const so = body['stream_options'];
      const opts = isJsonObject(so) ? so : {};
      body = { ...body, stream_options: { ...opts, include_usage: true } };
    }
    const totalMs = Math.min(
      this.cfg.timeouts.total_ms,
      call.deadline !== undefined ? Math.max(1, call.deadline - Date.now()) : Number.POSITIVE_INFINITY,
    );
    // One canceller per call, fed by the client's signal and a timer (AbortSignal.any/timeout, and even a plain
    // AbortController, cost several % of CPU here; see core/cancel.ts).
    const controller = new Cancel();
    const deadline = { aborted: false };
    const timer = setTimeout(() => {
      deadline.aborted = true;
      controller.abort(new Error('total timeout'));
    }, totalMs);
    const unlink = onAbort(call.signal, (reason) => controller.abort(reason));
    const signal = controller.signal;
    this.inFlight++;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        this.inFlight--;
        clearTimeout(timer);
        unlink();
      }
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        path: this.basePath + PATHS[call.endpoint],
        method: 'POST',
        headers: { ...this.headers, 'x-request-id': call.requestId, ...(call.traceparent ? { traceparent: call.traceparent } : {}) },
        body: JSON.stringify(body),
        // undici takes any EventTarget-like signal (lib/api/api-request.js checks for addEventListener).
        signal: signal as unknown as AbortSignal,
      });
    } catch (err) {
      release();
      throw this.failure(err, call.signal, deadline, 'connect');
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await readErrorBody(res.body).catch(() => '');
      release();
      const ra = res.headers['retry-after'];
      throw upstreamStatusError(this.id, res.statusCode, text, Array.isArray(ra) ? ra[0] : ra);
    }
    const ctype = String(res.headers['content-type'] ?? '');
    if (call.stream && ctype.includes('text/event-stream')) {
      return { kind: 'stream', events: this.events(res.body, call.signal, deadline, release) };
    }
    try {
      const text = await res.body.text();
      const parsed: unknown = JSON.parse(text);
      if (!isJsonObject(parsed)) throw new Error('not an object');
      const json = parsed as JsonObject;
      return { kind: 'json', body: json, usage: usageOf(json) };
    } catch (err) {
      if (err instanceof SyntaxError || (err instanceof Error && err.message === 'not an object')) {
        throw upstreamStatusError(this.id, 502, 'the response was not valid JSON', undefined);
      }
      throw this.failure(err, call.signal, deadline, 'response');
    } finally {
      release();
    }
  }

  private failure(err: unknown, client: CancelSignal, deadline: { aborted: boolean }, phase: 'connect' | 'response' | 'stream') {
    if (client.aborted) return client.reason instanceof Error ? client.reason : new Error('aborted by client');
    if (deadline.aborted) return deadlineError(this.id);
    if (err instanceof undiciErrors.RequestAbortedError) return deadlineError(this.id);
    return upstreamTransportError(this.id, err, phase);
  }

  private events(
    body: Dispatcher.ResponseData['body'],
    client: CancelSignal,
    deadline: { aborted: boolean },
    release: () => void,
  ): UpstreamSseEvents {
    return new UpstreamSseEvents(body, {
      failure: (err) => (err instanceof Error && err.name === 'GatewayError' ? err : this.failure(err, client, deadline, 'stream')),
      // The body ended without [DONE]: the stream was cut.
      cut: () => upstreamTransportError(this.id, Object.assign(new Error('cut'), { code: 'ECONNRESET' }), 'stream'),
      release,
    });
  }

  async close(): Promise<void> {
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    await this.pool.close();
  }
}
