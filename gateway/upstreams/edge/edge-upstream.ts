/** The edge runtime as a gateway Upstream: OpenAI request bodies in, engine messages out as OpenAI JSON or SSE chunks. */
import { GatewayError, type ErrorCode } from '../../core/errors.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { Upstream, UpstreamCall, UpstreamLoad, UpstreamModel, UpstreamResult, UpstreamStatus } from '../../core/upstream.js';
import type { EngineErrorReason, EngineHandle, EngineStats, FromEngine } from '../../../edge-runtime/index.js';
import { toEngineCall } from './openai-to-engine.js';
import { ToolOutput, type ToolPlan } from './edge-tools.js';
import { EventQueue } from './event-queue.js';
import { abortError, onAbort } from '../../core/abort.js';
import { ModelLoading } from './model-loading.js';

type Msg = FromEngine;

export class EdgeUpstream implements Upstream {
  readonly zone = 'device' as const;
  readonly models: readonly UpstreamModel[];
  private inFlight = 0;
  private seq = 0;
  private readonly loading: ModelLoading;

  constructor(
    readonly id: string,
    private readonly engine: EngineHandle,
    modelIds: string[] = [engine.modelId],
    /** How long a request without a deadline waits for a model still loading. */
    loadWaitMs = 30_000,
  ) {
    this.models = modelIds.map((m) => ({ id: m, upstreamModel: engine.modelId, ownedBy: 'switchyard-edge' }));
    this.loading = new ModelLoading(engine, id, loadWaitMs);
  }

  /** Resolves when the model is loaded; rejects with the load failure. */
  loaded(): Promise<void> {
    return this.engine.loaded;
  }

  status(): UpstreamStatus {
    if (this.loading.failure !== undefined) return { state: 'failed', reason: this.loading.failure };
    if (!this.engine.isReady()) return { state: 'loading' };
    const l = this.engine.loadReport();
    return l ? { state: 'ready', path: l.path, reason: `${l.variantReason}; ${l.pathReason}` } : { state: 'ready' };
  }

  async ready(): Promise<boolean> {
    return this.engine.isReady();
  }

  load(): UpstreamLoad {
    const s = this.engine.lastStats();
    return { inFlight: this.inFlight, queueDepth: s?.waiting, kvFreeFraction: s ? 1 - s.kvUsage : undefined, queueWaitMs: s?.predictedQueueWaitMs };
  }

  /** The engine's latest live numbers (queue, batch, KV blocks, tokens/s): what routers and metrics read. */
  engineStats(): EngineStats | undefined {
    return this.engine.lastStats();
  }

  async close(): Promise<void> {
    await this.engine.close();
  }

  async call(call: UpstreamCall): Promise<UpstreamResult> {
    if (call.endpoint === 'embeddings') {
      throw new GatewayError(`The edge model '${this.engine.modelId}' does not serve embeddings.`, {
        status: 400,
        code: 'unsupported_endpoint',
        param: 'model',
      });
    }
    await this.loading.wait(call);
    const id = `${call.requestId}#${++this.seq}`;
    const { request, plan } = toEngineCall(id, call);
    const queue = new EventQueue<Msg>();
    this.inFlight++;
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      this.inFlight--;
      unlink();
    };
    if (call.signal.aborted) {
      this.inFlight--;
      throw abortError(call.signal);
    }
    const unlink = onAbort(call.signal, () => {
      this.engine.cancel(id);
      queue.fail(abortError(call.signal));
      finish();
    });
    this.engine.submit(request, (m) => queue.push(m));

    // Wait for admission (tokenized, fits the context) so validation errors are plain 4xx responses.
    const first = await queue.next();
    if (first.done) {
      finish();
      throw new GatewayError('The edge engine ended the request without answering.', { status: 502, code: 'edge_error', upstream: this.id });
    }
    if (first.value.type === 'error') {
      finish();
      throw engineError(this.id, first.value);
    }
    const promptTokens = first.value.type === 'accepted' ? first.value.promptTokens : 0;
    const created = Math.floor(Date.now() / 1000);
    const model = String(call.body['model'] ?? this.engine.modelId);
    const chat = call.endpoint === 'chat.completions';
    const respId = `${chat ? 'chatcmpl' : 'cmpl'}-${id.replace(/[^A-Za-z0-9]/g, '').slice(-24)}`;
    if (call.stream) {
      // A consumer that stops reading early (return()) cancels the engine's work too, not only an aborted signal.
      const cancel = () => this.engine.cancel(id);
      return { kind: 'stream', events: this.stream(queue, { respId, created, model, chat, n: request.n, finish, cancel, upstream: this.id, plan }) };
    }
    try {
      return { kind: 'json', ...(await collect(queue, { respId, created, model, chat, n: request.n, promptTokens, upstream: this.id, plan })) };
    } finally {
      finish();
    }
  }

  private async *stream(
    queue: EventQueue<Msg>,
    o: {
      respId: string;
      created: number;
      model: string;
      chat: boolean;
      n: number;
      finish: () => void;
      cancel: () => void;
      upstream: string;
      plan: ToolPlan;
    },
  ): AsyncGenerator<string> {
    const object = o.chat ? 'chat.completion.chunk' : 'text_completion';
    const base = { id: o.respId, object, created: o.created, model: o.model };
    const started = new Set<number>();
    const outputs = new Map<number, ToolOutput>();
    let ended = false;
    try {
      for (;;) {
        const next = await queue.next();
        if (next.done) return;
        const m = next.value;
        if (m.type === 'delta' || m.type === 'finish') {
          const reason = m.type === 'finish' ? finishReason(m.reason) : null;
          if (m.type === 'finish' && m.reason === 'deadline') {
            throw new GatewayError("The edge runtime could not finish within the request's latency budget.", {
              status: 504,
              code: 'edge_deadline',
              upstream: o.upstream,
            });
          }
          const lp = m.logprobs && m.logprobs.length > 0 ? logprobsJson(m.logprobs, o.chat) : null;
          if (o.chat) {
            // Text goes through the choice's tool reader: content, or tool_calls deltas (forced calls, parsed calls).
            let out = outputs.get(m.index);
            if (!out) outputs.set(m.index, (out = new ToolOutput(o.plan)));
            const deltas = m.text ? out.push(m.text) : [];
            if (m.type === 'finish') deltas.push(...out.end());
            if (deltas.length === 0 && m.type === 'finish') deltas.push({});
            const end = m.type === 'finish' && reason === 'stop' && out.calledTools ? 'tool_calls' : reason;
            for (const [k, d] of deltas.entries()) {
              const delta: JsonObject = started.has(m.index) ? d : { role: 'assistant', ...d };
              started.add(m.index);
              const last = k === deltas.length - 1;
              yield JSON.stringify({
                ...base,
                choices: [{ index: m.index, delta, logprobs: k === 0 ? lp : null, finish_reason: last ? end : null }],
              });
            }
          } else {
            yield JSON.stringify({ ...base, choices: [{ index: m.index, text: m.text, logprobs: lp, finish_reason: reason }] });
          }
        } else if (m.type === 'done') {
          ended = true;
          yield JSON.stringify({ ...base, choices: [], usage: m.usage });
          return;
        } else if (m.type === 'error') {
          throw engineError(o.upstream, m);
        }
      }
    } finally {
      if (!ended) {
        queue.fail(new Error('stream closed'));
        o.cancel();
      }
      o.finish();
    }
  }
}

/** A chat choice from a choice's whole text, read for tool calls per the request's plan. */
function chatChoice(plan: ToolPlan, text: string, index: number, reason: 'stop' | 'length', logprobs: JsonValue): JsonObject {
  const out = new ToolOutput(plan);
  out.push(text);
  const m = out.message();
  const message: JsonObject = { role: 'assistant', content: m.content, refusal: null };
  if (m.calls.length > 0) message['tool_calls'] = m.calls as unknown as JsonValue;
  return { index, message, logprobs, finish_reason: m.calls.length > 0 && reason === 'stop' ? 'tool_calls' : reason };
}

function finishReason(r: string): 'stop' | 'length' {
  return r === 'length' ? 'length' : 'stop';
}

/** The engine speaks reasons; this is where they become HTTP statuses and OpenAI error codes. */
const REASONS: Record<EngineErrorReason, { status: number; code: ErrorCode }> = {
  invalid_prompt: { status: 400, code: 'invalid_prompt' },
  invalid_value: { status: 400, code: 'invalid_value' },
  context_length: { status: 400, code: 'context_length_exceeded' },
  overloaded: { status: 503, code: 'edge_kv_exhausted' },
  unavailable: { status: 503, code: 'edge_unavailable' },
};

function engineError(upstream: string, m: Extract<Msg, { type: 'error' }>): GatewayError {
  const { status, code } = REASONS[m.reason];
  return new GatewayError(m.message, { status, code, param: m.param ?? null, upstream, retryable: status >= 500 });
}

function logprobsJson(lps: NonNullable<Extract<Msg, { type: 'delta' }>['logprobs']>, chat: boolean): JsonValue {
  if (chat) {
    return {
      content: lps.map((t) => ({
        token: t.token,
        logprob: t.logprob,
        bytes: t.bytes,
        top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })),
      })),
    };
  }
  return {
    tokens: lps.map((t) => t.token),
    token_logprobs: lps.map((t) => t.logprob),
    top_logprobs: lps.map((t) => Object.fromEntries(t.top.map((a) => [a.token, a.logprob]))),
    text_offset: [],
  };
}

async function collect(
  queue: EventQueue<Msg>,
  o: { respId: string; created: number; model: string; chat: boolean; n: number; promptTokens: number; upstream: string; plan: ToolPlan },
): Promise<{ body: JsonObject; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }> {
  const texts = Array.from({ length: o.n }, () => '');
  const reasons: Array<'stop' | 'length'> = Array.from({ length: o.n }, () => 'stop');
  const lps: Array<NonNullable<Extract<Msg, { type: 'delta' }>['logprobs']>> = Array.from({ length: o.n }, () => []);
  let wantLogprobs = false;
  for (;;) {
    const next = await queue.next();
    if (next.done) throw new GatewayError('The edge engine stopped mid-request.', { status: 502, code: 'edge_error', upstream: o.upstream });
    const m = next.value;
    if (m.type === 'delta' || m.type === 'finish') {
      texts[m.index] += m.text;
      if (m.logprobs) {
        wantLogprobs = true;
        lps[m.index]!.push(...m.logprobs);
      }
      if (m.type === 'finish') {
        if (m.reason === 'deadline')
          throw new GatewayError("The edge runtime could not finish within the request's latency budget.", {
            status: 504,
            code: 'edge_deadline',
            upstream: o.upstream,
            retryable: true,
          });
        reasons[m.index] = finishReason(m.reason);
      }
    } else if (m.type === 'error') {
      throw engineError(o.upstream, m);
    } else if (m.type === 'done') {
      const choices = texts.map((text, index) =>
        o.chat
          ? chatChoice(o.plan, text, index, reasons[index]!, wantLogprobs ? logprobsJson(lps[index]!, true) : null)
          : { index, text, logprobs: wantLogprobs ? logprobsJson(lps[index]!, false) : null, finish_reason: reasons[index]! },
      );
      const body: JsonObject = {
        id: o.respId,
        object: o.chat ? 'chat.completion' : 'text_completion',
        created: o.created,
        model: o.model,
        choices: choices as unknown as JsonValue,
        usage: m.usage as unknown as JsonValue,
        system_fingerprint: 'switchyard-edge',
      };
      return { body, usage: m.usage };
    }
  }
}
