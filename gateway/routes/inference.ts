/** POST /v1/chat/completions, /v1/completions and /v1/embeddings: parse, admit, decide, cache, dispatch, respond. */
import type { Context, Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';
import { admit, decide } from './admission.js';
import { onClientGone } from '../core/client-gone.js';
import { Cancel, type CancelSignal } from '../core/cancel.js';
import type { Decision } from '../core/decision.js';
import { dispatch } from '../core/dispatch.js';
import { runCascade } from '../cascade/run-cascade.js';
import { GatewayError } from '../core/errors.js';
import { parseInferenceRequest, type InferenceRequest } from '../core/inference-request.js';
import { readJsonBody } from '../core/read-body.js';
import type { RequestContext } from '../core/request-context.js';
import { jsonResponse, sseResponse } from '../core/respond.js';
import type { Endpoint, JsonObject } from '../core/types.js';
import { usageOf, type UpstreamResult } from '../core/upstream.js';
import { readyEventsOf } from '../core/ready-events.js';
import { unmaskAnswer } from '../masking/unmask-answer.js';
import { unmaskStream } from '../masking/unmask-stream.js';
import { mayReach } from '../core/zones.js';
import { cacheKey } from '../cache/cache-key.js';
import { splitOrigin, withOrigin } from '../cache/answer-origin.js';
import { replayAsChunks, StreamAssembler } from '../cache/stream-answer.js';
import type { Front } from '../fronts/front.js';
import { semanticLookup } from '../semantic-cache/semantic-lookup.js';
import type { SemanticProbe } from '../semantic-cache/semantic-cache.js';

/** The chat-completions face: answers go out exactly as the destinations gave them. */
const CHAT_FRONT: Front = {
  name: 'chat',
  json: async (body, ctx) => jsonResponse(body, 200, ctx.headers),
  stream: sseResponse,
};

const MAX_RECORDED_MODEL_CHARS = 256;

const ROUTES: Array<{ path: string; endpoint: Endpoint }> = [
  { path: '/v1/chat/completions', endpoint: 'chat.completions' },
  { path: '/v1/completions', endpoint: 'completions' },
  { path: '/v1/embeddings', endpoint: 'embeddings' },
];

export function inferenceRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  for (const route of ROUTES) {
    app.post(route.path, (c) => handle(c, s, route.endpoint));
    methodGuard(app, route.path, 'POST');
  }
}

async function handle(c: Context<GatewayEnv>, s: GatewayServices, endpoint: Endpoint): Promise<Response> {
  const ctx = c.get('ctx');
  ctx.endpoint = endpoint;
  const { json, bytes } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
  // What is known of a request refused by validation still goes into its record. Capped: the name is the client's,
  // and records and log lines must not grow with it (routing uses request.model).
  if (typeof json['model'] === 'string') ctx.model = json['model'].slice(0, MAX_RECORDED_MODEL_CHARS);
  const request = parseInferenceRequest(endpoint, json, bytes, s.config.server.limits);
  return serveInference(c, s, request, CHAT_FRONT);
}

/**
 * Admit, decide, cache, dispatch and respond for one parsed request. Other fronts (/v1/responses, /v1/messages)
 * translate their bodies to chat completions and come through here, so policies, limits, budgets, cache and records
 * apply identically; `front` turns the chat answer back into the client's protocol.
 */
export async function serveInference(c: Context<GatewayEnv>, s: GatewayServices, request: InferenceRequest, front: Front): Promise<Response> {
  const ctx = c.get('ctx');
  const endpoint = request.endpoint;
  ctx.endpoint = endpoint;
  ctx.front = front.name;
  ctx.model = request.model.slice(0, MAX_RECORDED_MODEL_CHARS);
  ctx.stream = request.stream;
  ctx.span = s.deps.tracer?.start(ctx, c.req.raw.headers);
  await admit(s, ctx, request);
  const decided = await decide(s, ctx, request, c.req.raw.headers);
  // Reversible masks take the session's placeholders; requests with none skip even the await.
  const decision = decided.unmask?.size
    ? await s.masking.apply(decided, c.req.raw.headers, request.body, `${ctx.principal.tenant}\u0000${ctx.principal.keyId}`)
    : decided;

  // One controller per request: the client going away, or the gateway giving up, stops the upstream work.
  const abort = new Cancel();
  const detach = onClientGone(c.env, c.req.raw, () => abort.abort(new Error('client disconnected')));

  // Result cache: only what the Decision allows, keyed per tenant and policy version; Cache-Control honoured.
  const cc = (c.req.header('cache-control') ?? '').toLowerCase();
  const cacheable = s.cache !== undefined && decision.cache.enabled && !cc.includes('no-store');
  // Keyed by the zones the data classes allow too: an answer made in a zone is served only where that zone is allowed.
  const key = cacheable ? await cacheKey(endpoint, decision.body ?? request.body, ctx.principal.tenant, cacheScope(decision)) : undefined;
  ctx.cache = key === undefined ? 'bypass' : 'miss';
  if (key !== undefined && !cc.includes('no-cache')) {
    const hit = await s.cache?.get(key);
    if (hit && answerZoneAllowed(s, decision, hit)) {
      detach();
      return answerFromCache(s, ctx, request, decision, hit, front);
    }
  }
  // Semantic cache: only for rules that ask for it (one property check otherwise).
  const semantic =
    key !== undefined && decision.cache.semantic && !cc.includes('no-cache')
      ? await semanticLookup(s, ctx, request, decision, abort.signal)
      : undefined;
  if (semantic?.hit) {
    detach();
    return answerFromCache(s, ctx, request, decision, semantic.hit.answer, front, semantic.hit.similarity);
  }
  ctx.headers['x-switchyard-cache'] = ctx.cache;

  let result: UpstreamResult;
  try {
    result = await call(s, ctx, request, decision, key, abort.signal, semantic?.probe);
    ctx.headers['x-switchyard-route'] = ctx.upstream ?? '';
  } catch (err) {
    detach();
    throw err;
  }
  if (result.kind === 'json') {
    detach();
    const body = decision.unmask && decision.unmask.size > 0 ? unmaskAnswer(result.body, decision.unmask) : result.body;
    ctx.usage = result.usage;
    ctx.ttftMs = Date.now() - ctx.startedAt;
    s.complete(ctx);
    return front.json(body, ctx);
  }
  // Placeholders are put back before any front reads the stream, so every protocol's stream is unmasked.
  return front.stream(unmasked(result.events, decision), ctx, {
    clientWantsUsage: request.wantsStreamUsage,
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

async function answerFromCache(
  s: GatewayServices,
  ctx: RequestContext,
  request: InferenceRequest,
  decision: Decision,
  stored: JsonObject,
  front: Front,
  /** Set for a semantic hit: the cosine similarity to the cached request. */
  similarity?: number,
): Promise<Response> {
  const { answer: hit, origin } = splitOrigin(stored);
  ctx.cache = 'hit';
  ctx.cachedFrom = origin;
  ctx.usage = usageOf(hit);
  ctx.headers['x-switchyard-cache'] = similarity === undefined ? 'hit' : 'semantic-hit';
  if (similarity !== undefined) ctx.headers['x-switchyard-cache-similarity'] = similarity.toFixed(4);
  ctx.ttftMs = Date.now() - ctx.startedAt;
  if (!ctx.stream) {
    s.complete(ctx);
    return front.json(decision.unmask?.size ? unmaskAnswer(hit, decision.unmask) : hit, ctx);
  }
  return front.stream(unmasked(readyEventsOf(replayAsChunks(hit)), decision), ctx, {
    clientWantsUsage: request.wantsStreamUsage,
    abort: () => undefined,
    onEnd: () => s.complete(ctx),
  });
}

/** Step: dispatch, sharing one upstream call among identical concurrent requests when the answer is cacheable. */
async function call(
  s: GatewayServices,
  ctx: RequestContext,
  request: InferenceRequest,
  decision: Decision,
  key: string | undefined,
  signal: CancelSignal,
  semantic?: SemanticProbe,
): Promise<UpstreamResult> {
  const body = decision.body ?? request.body;
  const plan = decision.cascade;
  const send = (sig: CancelSignal) =>
    plan && request.endpoint !== 'embeddings'
      ? runCascade({ request, body, decision, plan, ctx, resilience: s.resilience, signal: sig })
      : dispatch({ endpoint: request.endpoint, body, stream: ctx.stream, signal: sig, decision, ctx, resilience: s.resilience });
  const store = s.cache;
  if (key === undefined || !store) return send(signal);
  if (!ctx.stream) {
    // Identical concurrent requests share one upstream call; the answer is stored once complete.
    const { body } = await s.flights.run(key, signal, async (sig) => {
      const r = await send(sig);
      if (r.kind !== 'json')
        throw new GatewayError('Upstream answered a non-streaming request with a stream.', { status: 502, code: 'upstream_error' });
      await store.set(key, withOrigin(r.body, ctx), decision.cache.ttlSeconds);
      if (semantic) s.semanticCache?.remember(semantic, key, decision.cache.ttlSeconds);
      return r.body;
    });
    return { kind: 'json', body, usage: usageOf(body) };
  }
  // Identical concurrent streams share one upstream stream; the finished answer is stored.
  const joined = await s.streams.join(key, signal, send, (chunks) => {
    const assembler = new StreamAssembler();
    for (const d of chunks) assembler.push(d);
    const answer = assembler.result();
    if (answer)
      // Off the request path, so its failure (a Redis or encryption error) must not become an unhandled rejection.
      store.set(key, withOrigin(answer, ctx), decision.cache.ttlSeconds).then(
        () => {
          if (semantic) s.semanticCache?.remember(semantic, key, decision.cache.ttlSeconds);
        },
        (err: unknown) => s.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'storing a streamed answer in the cache failed'),
      );
  });
  return { kind: 'stream', events: joined.events };
}

/** The stream as the client must see it: reversible masks put back, if the request had any. */
function unmasked(events: AsyncIterable<string>, decision: Decision): AsyncIterable<string> {
  return decision.unmask?.size ? unmaskStream(events, decision.unmask) : events;
}

/** The policy version, plus the zone limits when the data classes have any. */
const cacheScope = (d: Decision) =>
  d.zoneLimits?.length ? `${d.policyVersion}|zones:${d.zoneLimits.map((l) => `${l.dataClass}=${l.zones.join('+')}`).join(',')}` : d.policyVersion;

/** Defence in depth: a stored answer whose origin zone this request may not reach is a miss. */
function answerZoneAllowed(s: GatewayServices, decision: Decision, stored: JsonObject): boolean {
  if (!decision.zoneLimits?.length && !decision.edgeOnly) return true;
  const origin = splitOrigin(stored).origin;
  const zone = origin ? s.catalog.upstream(origin.upstream)?.zone : undefined;
  return zone !== undefined && mayReach(decision.zoneLimits, zone) && (!decision.edgeOnly || zone === 'device');
}
