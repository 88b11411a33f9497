/** createGateway(): the composition root of the Web-standard Hono app both entries (Node, Worker) serve. */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { GatewayConfig } from './config/schema.js';
import { asGatewayError, errors, GatewayError } from './core/errors.js';
import type { RequestContext } from './core/request-context.js';
import { ANONYMOUS } from './core/principal.js';
import type { Endpoint } from './core/types.js';
import { buildServices, type GatewayDeps, type GatewayEnv } from './services.js';
import { adminRoutes } from './routes/admin.js';
import { explainRoutes } from './routes/explain.js';
import { inferenceRoutes } from './routes/inference.js';
import { messagesRoutes } from './routes/messages.js';
import { responsesRoutes } from './routes/responses.js';
import { anthropicErrorResponse } from './fronts/messages-response.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { operatorRoutes } from './routes/operator.js';
import { fileRoutes } from './routes/files.js';
import { batchRoutes } from './routes/batches.js';

export type { GatewayDeps, GatewayEnv, GatewayServices, OperatorDeps } from './services.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Every request to these paths leaves a record and a metric, whatever the outcome (401s and 400s included). */
const INFERENCE_PATHS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat.completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};

export function createGateway(config: GatewayConfig, deps: GatewayDeps): Hono<GatewayEnv> {
  const services = buildServices(config, deps);
  const logger = services.logger;
  const app = new Hono<GatewayEnv>();
  if (config.server.cors)
    app.use('*', cors({ origin: config.server.cors.origins, exposeHeaders: ['x-request-id', 'x-switchyard-route', 'x-switchyard-policy'] }));

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    const endpoint = INFERENCE_PATHS[c.req.path];
    const ctx: RequestContext = {
      id,
      startedAt: Date.now(),
      endpoint: endpoint ?? 'chat.completions',
      recorded: endpoint !== undefined,
      model: '',
      stream: false,
      status: 200,
      attempts: 0,
      principal: ANONYMOUS,
      headers: { 'x-request-id': id },
    };
    c.set('ctx', ctx);
    // Inference needs a key when keys are configured; operator surfaces need an admin key; probes stay open.
    const path = c.req.path;
    const internal = c.env?.internalPrincipal;
    if (internal) ctx.principal = internal;
    else if (
      services.auth.enabled &&
      (path.startsWith('/v1/') || path.startsWith('/admin') || (path === '/metrics' && config.server.metrics_auth)) // /dashboard: routes/operator.ts (cookie sessions)
    ) {
      // Anthropic's clients present their key as x-api-key; it is checked exactly like a Bearer key.
      const apiKey = c.req.header('x-api-key');
      ctx.principal = await services.auth.authenticate(c.req.header('authorization') ?? (apiKey ? `Bearer ${apiKey}` : undefined));
      if (!path.startsWith('/v1/') && ctx.principal.role !== 'admin') {
        throw new GatewayError('This endpoint needs an admin key.', { status: 403, code: 'admin_required' });
      }
    }
    await next();
    c.res.headers.set('x-request-id', id);
  });

  app.onError((err, c) => {
    const ctx = c.get('ctx');
    // A failure after the client went away is the client leaving (499, info), not a bug or an upstream fault.
    const gone = c.req.raw.signal.aborted && !(err instanceof GatewayError && err.status < 500);
    const e = gone ? errors.clientClosed('before the answer was ready') : asGatewayError(err);
    if (e.status >= 500 && e.code === 'internal_error') {
      logger.error(
        { reqId: c.get('ctx')?.id, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) },
        'internal error',
      );
    }
    if (ctx) {
      ctx.status = e.status;
      ctx.errorCode = e.code;
      if (ctx.model || ctx.recorded) services.complete(ctx);
    }
    // Anthropic's clients read Anthropic-shaped errors (their SDK raises its own error classes from them).
    if (c.req.path.startsWith('/v1/messages')) return anthropicErrorResponse(e, ctx?.headers);
    return e.toResponse(ctx?.headers);
  });

  app.notFound((c) => errors.notFound(new URL(c.req.url).pathname).toResponse(c.get('ctx')?.headers));

  healthRoutes(app, services);
  modelRoutes(app, services);
  inferenceRoutes(app, services);
  responsesRoutes(app, services);
  messagesRoutes(app, services);
  operatorRoutes(app, services);
  adminRoutes(app, services);
  explainRoutes(app, services);
  if (deps.batch) {
    fileRoutes(app, services, deps.batch);
    batchRoutes(app, services, deps.batch);
  }
  return app;
}
