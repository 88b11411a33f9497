/** Liveness and readiness probes for load balancers and orchestrators. */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';

export function healthRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  methodGuard(app, '/healthz', 'GET');

  app.get('/readyz', async (c) => {
    const extra = (await s.deps.ready?.()) ?? true;
    const upstreams = await Promise.all(
      s.catalog.upstreams.map(async (u) => ({ id: u.id, zone: u.zone, ready: await u.ready().catch(() => false), ...u.status?.() })),
    );
    // A configured model that failed to load makes the gateway not ready, even if others serve.
    const ready = extra && !upstreams.some((u) => u.state === 'failed') && (upstreams.length === 0 || upstreams.some((u) => u.ready));
    return c.json({ status: ready ? 'ready' : 'not_ready', models: s.catalog.list(0).length, upstreams }, ready ? 200 : 503);
  });
  methodGuard(app, '/readyz', 'GET');
}
