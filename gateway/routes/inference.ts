/** POST /v1/chat/completions, /v1/completions and /v1/embeddings: parse, validate, pick upstreams, dispatch, respond. */
import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { methodGuard, type GatewayEnv, type GatewayServices } from '../core/app.js';
import { dispatch } from '../core/dispatch.js';
import { readJsonBody, validate } from '../core/read-body.js';
import { errors, GatewayError } from '../core/errors.js';
import { modelAllowed } from '../core/principal.js';
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema } from '../core/request-schemas.js';
import { jsonResponse, sseResponse } from '../core/respond.js';
import type { Endpoint } from '../core/types.js';

const ROUTES: Array<{ path: string; endpoint: Endpoint; schema: z.ZodType<{ model: string; stream?: boolean | null; stream_options?: { include_usage?: boolean } | null }> }> = [
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

async function handle(
  c: Context<GatewayEnv>,
  s: GatewayServices,
  endpoint: Endpoint,
  schema: (typeof ROUTES)[number]['schema'],
): Promise<Response> {
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

  const decision = await s.router.decide({ endpoint, model: req.model, body, headers: c.req.raw.headers, principal: ctx.principal });
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

  let result;
  try {
    result = await dispatch({ endpoint, body: decision.body ?? body, stream: ctx.stream, signal: abort.signal, decision, ctx, resilience: s.resilience });
    ctx.headers['x-switchyard-route'] = ctx.upstream ?? '';
  } catch (err) {
    detach();
    throw err;
  }

  if (result.kind === 'json') {
    detach();
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
