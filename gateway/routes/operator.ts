/** Operator surfaces: /metrics (Prometheus text) and /dashboard (report page, its data and Chart.js). */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { errors } from '../core/errors.js';
import { dashboardHtml } from '../dashboard/dashboard-html.js';

const WINDOW = /^(\d+)([mhd])$/;

export function operatorRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  const op = s.deps.operator;
  app.get('/metrics', async (c) => {
    if (!op?.metricsText) throw errors.notFound('/metrics');
    return c.text(await op.metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  app.get('/dashboard', (c) => {
    if (!op?.report) throw errors.notFound('/dashboard');
    return c.html(dashboardHtml({}));
  });
  app.get('/dashboard/chart.js', (c) => {
    if (!op?.chartJs) throw errors.notFound('/dashboard/chart.js');
    return c.body(op.chartJs, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
  });
  app.get('/dashboard/data.json', async (c) => {
    if (!op?.report) throw errors.notFound('/dashboard/data.json');
    const m = WINDOW.exec(c.req.query('since') ?? '1h');
    if (!m) throw errors.invalid("'since' must look like 30m, 6h or 7d.", 'since');
    const ms = Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000);
    return c.json(await op.report(ms));
  });
}
