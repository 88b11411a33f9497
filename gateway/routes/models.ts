/** GET /v1/models: the union of every configured upstream's models, in OpenAI's list shape. */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';

/** A model every destination of which failed to load is listed, marked unavailable with the reason (not silently 503). */
function withAvailability<M extends { id: string }>(s: GatewayServices, m: M): M & { available?: false; unavailable_reason?: string } {
  const states = s.catalog.candidates(m.id).map((c) => c.upstream.status?.());
  if (states.length === 0 || !states.every((st) => st?.state === 'failed')) return m;
  return { ...m, available: false, unavailable_reason: states.map((st) => st?.reason ?? 'failed').join('; ') };
}

const startedAt = Math.floor(Date.now() / 1000);

export function modelRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.get('/v1/models', (c) => c.json({ object: 'list', data: s.catalog.list(startedAt).map((m) => withAvailability(s, m)) }));
  methodGuard(app, '/v1/models', 'GET');

  app.get('/v1/models/:model{.+}', (c) => {
    const id = c.req.param('model');
    const found = s.catalog.list(startedAt).find((m) => m.id === id);
    if (!found) throw s.catalog.notFound(id, c.get('ctx').principal);
    return c.json(withAvailability(s, found));
  });
}
