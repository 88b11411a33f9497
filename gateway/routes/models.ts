/** GET /v1/models: the union of every configured upstream's models, in OpenAI's list shape. */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';

const startedAt = Math.floor(Date.now() / 1000);

export function modelRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.get('/v1/models', (c) => c.json({ object: 'list', data: s.catalog.list(startedAt) }));
  methodGuard(app, '/v1/models', 'GET');

  app.get('/v1/models/:model{.+}', (c) => {
    const id = c.req.param('model');
    const found = s.catalog.list(startedAt).find((m) => m.id === id);
    if (!found) throw s.catalog.notFound(id, c.get('ctx').principal);
    return c.json(found);
  });
}
