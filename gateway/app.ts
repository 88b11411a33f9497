/** createGateway(): the composition root of the Web-standard Hono app both entries (Node, Worker) serve. */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { GatewayConfig } from './config/schema.js';
import { asGatewayError, errors, GatewayError } from './core/errors.js';
import type { RequestContext } from './core/request-context.js';
import { ANONYMOUS } from './core/principal.js';
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

export type { GatewayDeps, GatewayEnv, GatewayServices, OperatorDeps } from './services.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function createGateway(config: GatewayConfig, deps: GatewayDeps): Hono<GatewayEnv> {
  const services = buildServices(config, deps);
  const logger = services.logger;
  const app = new Hono<GatewayEnv>();
  if (config.server.cors)
    app.use('*', cors({ origin: config.server.cors.origins, exposeHeaders: ['x-request-id', 'x-switchyard-route', 'x-switchyard-policy'] }));

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    const ctx: RequestContext = {
      id,
      startedAt: Date.now(),
      endpoint: 'chat.completions',
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
    if (
      services.auth.enabled &&
      (path.startsWith('/v1/') || path.startsWith('/admin') || path.startsWith('/dashboard') || (path === '/metrics' && config.server.metrics_auth))
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
    const e = asGatewayError(err);
    const ctx = c.get('ctx');
    if (e.status >= 500 && e.code === 'internal_error') {
      logger.error(
        { reqId: c.get('ctx')?.id, err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) },
        'internal error',
      );
    }
    if (ctx) {
      ctx.status = e.status;
      ctx.errorCode = e.code;
      if (ctx.model) services.complete(ctx);
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
  return app;
}
