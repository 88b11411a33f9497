/** GET /admin/upstreams: each upstream's zone, models, breaker state and load (behind an admin key when keys exist). */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';

export function adminRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.get('/admin/policies', (c) => {
    const status = s.deps.policyStatus?.() ?? null;
    return c.json({ policy: status ?? { source: null, version: 'none', lastError: null, note: 'no policy file configured' } });
  });

  app.get('/admin/upstreams', async (c) =>
    c.json({
      object: 'list',
      data: await Promise.all(
        s.catalog.upstreams.map(async (u) => ({
          id: u.id,
          zone: u.zone,
          models: u.models.map((m) => m.id),
          breaker: s.resilience.breaker(u.id).state,
          ready: await u.ready().catch(() => false),
          load: u.load(),
        })),
      ),
    }),
  );
}
