/** POST /v1/chat/completions, /v1/completions and /v1/embeddings: parse, validate, pick upstreams, dispatch, respond. */
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';
import { dispatch } from '../core/dispatch.js';
import { readJsonBody, validate } from '../core/read-body.js';
import { errors, GatewayError } from '../core/errors.js';
import { modelAllowed } from '../core/principal.js';
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema } from '../core/request-schemas.js';
import { jsonResponse, sseResponse } from '../core/respond.js';
import type { Endpoint, JsonObject } from '../core/types.js';
import { unmask } from '../policy/detectors.js';
import { usageOf } from '../core/upstream.js';
import { cacheKey } from '../cache/cache-key.js';
import { replayAsChunks, StreamAssembler } from '../cache/stream-answer.js';

const ROUTES: Array<{
  path: string;
  endpoint: Endpoint;
  schema: z.ZodType<{ model: string; stream?: boolean | null; stream_options?: { include_usage?: boolean } | null }>;
}> = [
  { path: '/v1/chat/completions', endpoint: 'chat.completions', schema: chatRequestSchema },
  { path: '/v1/completions', endpoint: 'completions', schema: completionRequestSchema },
  { path: '/v1/embeddings', endpoint: 'embeddings', schema: embeddingRequestSchema },
];

export function inferenceRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  for (const route of ROUTES) {
    app.post(route.path, (c) => handle(c, s, route.endpoint, route.schema));
    methodGuard(app, route.path, 'POST');
  }
}

async function handle(c: Context<GatewayEnv>, s: GatewayServices, endpoint: Endpoint, schema: (typeof ROUTES)[number]['schema']): Promise<Response> {
  const ctx = c.get('ctx');
  ctx.endpoint = endpoint;
  const { json: body, bytes } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
  const req = validate(schema, body);
  ctx.model = req.model;
  ctx.stream = endpoint !== 'embeddings' && req.stream === true;
  const messages = body['messages'];
  if (Array.isArray(messages) && messages.length > s.config.server.limits.max_messages) {
    throw errors.invalid(`Too many messages: ${messages.length} (at most ${s.config.server.limits.max_messages}).`, 'messages', 'too_many_messages');
  }
  if (!modelAllowed(ctx.principal, req.model)) {
    throw new GatewayError(`Your key may not use the model \`${req.model}\`.`, { status: 403, code: 'model_not_allowed', param: 'model' });
  }
  // Token estimate for limits: ~4 bytes per prompt token plus the completion allowance; reconciled after.
  const maxOut = body['max_completion_tokens'] ?? body['max_tokens'];
  const estimate = Math.ceil(bytes / 4) + (typeof maxOut === 'number' ? maxOut : 0);
  const grant = await s.rateLimiter.check(ctx.principal, estimate);
  if (grant) {
    Object.assign(ctx.headers, grant.headers);
    (ctx.finalizers ??= []).push((done) => void s.rateLimiter.reconcile(grant, done.usage?.total_tokens ?? grant.estimate));
  }

  const decided = await s.router.decide({ endpoint, model: req.model, body, headers: c.req.raw.headers, principal: ctx.principal });
  const decision = await s.budgets.apply(decided, ctx, req.model, bytes, typeof maxOut === 'number' ? maxOut : undefined);
  ctx.ruleId = decision.ruleId;
  ctx.policyVersion = decision.policyVersion;
  ctx.tags = decision.tags;
  ctx.headers['x-switchyard-policy'] = decision.ruleId;

  // One controller per request: the client going away, or the gateway giving up, stops the upstream work.
  const abort = new AbortController();
  const clientSignal = c.req.raw.signal;
  const onClientAbort = () => abort.abort(new Error('client disconnected'));
  clientSignal.addEventListener('abort', onClientAbort, { once: true });
  const detach = () => clientSignal.removeEventListener('abort', onClientAbort);

  // Result cache: only what the Decision allows, keyed per tenant and policy version; Cache-Control honoured.
  const cc = (c.req.header('cache-control') ?? '').toLowerCase();
  const store = s.cache;
  let key: string | undefined;
  if (!store || !decision.cache.enabled || cc.includes('no-store')) {
    ctx.cache = 'bypass';
  } else {
    key = await cacheKey(endpoint, decision.body ?? body, ctx.principal.tenant, decision.policyVersion);
    const hit = cc.includes('no-cache') ? undefined : await store.get(key);
    ctx.cache = hit ? 'hit' : 'miss';
    if (hit) {
      detach();
      ctx.usage = usageOf(hit);
      ctx.headers['x-switchyard-cache'] = 'hit';
      ctx.ttftMs = Date.now() - ctx.startedAt;
      if (!ctx.stream) {
        s.complete(ctx);
        return jsonResponse(decision.unmask?.size ? unmaskAnswer(hit, decision.unmask) : hit, 200, ctx.headers);
      }
      return sseResponse(toAsync(replayAsChunks(hit)), ctx, {
        clientWantsUsage: req.stream_options?.include_usage === true,
        abort: () => undefined,
        onEnd: () => s.complete(ctx),
      });
    }
  }
  ctx.headers['x-switchyard-cache'] = ctx.cache;
  const send = (signal: AbortSignal) =>
    dispatch({ endpoint, body: decision.body ?? body, stream: ctx.stream, signal, decision, ctx, resilience: s.resilience });

  let result;
  try {
    if (key && store && !ctx.stream) {
      // Identical concurrent requests share one upstream call; the answer is stored once complete.
      const k = key;
      const { body: answer } = await s.flights.run(k, abort.signal, async (signal) => {
        const r = await send(signal);
        if (r.kind !== 'json')
          throw new GatewayError('Upstream answered a non-streaming request with a stream.', { status: 502, code: 'upstream_error' });
        await store.set(k, r.body, decision.cache.ttlSeconds);
        return r.body;
      });
      result = { kind: 'json' as const, body: answer, usage: usageOf(answer) };
    } else if (key && store && ctx.stream) {
      // Identical concurrent streams share one upstream stream; the finished answer is stored.
      const k = key;
      const joined = await s.streams.join(k, abort.signal, send, (chunks) => {
        const assembler = new StreamAssembler();
        for (const d of chunks) assembler.push(d);
        const answer = assembler.result();
        if (answer) void store.set(k, answer, decision.cache.ttlSeconds);
      });
      result = { kind: 'stream' as const, events: joined.events };
    } else {
      result = await send(abort.signal);
    }
    ctx.headers['x-switchyard-route'] = ctx.upstream ?? '';
  } catch (err) {
    detach();
    throw err;
  }

  if (result.kind === 'json') {
    detach();
    if (decision.unmask && decision.unmask.size > 0) result = { ...result, body: unmaskAnswer(result.body, decision.unmask) };
    ctx.usage = result.usage;
    ctx.ttftMs = Date.now() - ctx.startedAt;
    s.complete(ctx);
    return jsonResponse(result.body, 200, ctx.headers);
  }
  return sseResponse(result.events, ctx, {
    clientWantsUsage: req.stream_options?.include_usage === true,
    abort: () => abort.abort(new Error('client disconnected')),
    onEnd: ({ cancelled }) => {
      detach();
      if (cancelled) {
        ctx.status = 499;
        ctx.errorCode = 'client_closed_request';
      }
      s.complete(ctx);
    },
  });
}

/** Restores reversibly masked spans in a JSON answer's message content / text. */
function unmaskAnswer(body: JsonObject, masks: ReadonlyMap<string, string>): JsonObject {
  const choices = Array.isArray(body['choices']) ? body['choices'] : [];
  return {
    ...body,
    choices: choices.map((c) => {
      if (!c || typeof c !== 'object' || Array.isArray(c)) return c;
      const msg = c['message'];
      if (msg && typeof msg === 'object' && !Array.isArray(msg) && typeof msg['content'] === 'string')
        return { ...c, message: { ...msg, content: unmask(msg['content'], masks) } };
      if (typeof c['text'] === 'string') return { ...c, text: unmask(c['text'], masks) };
      return c;
    }),
  };
}

async function* toAsync(chunks: Iterable<string>): AsyncGenerator<string> {
  yield* chunks;
}
