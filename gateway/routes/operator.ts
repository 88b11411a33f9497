/**
 * Operator surfaces: /metrics (Prometheus text; open unless server.metrics_auth) and /dashboard (report page, its data,
 * Chart.js). With keys configured the dashboard needs an admin: a Bearer admin key (scripts) or a session cookie a
 * browser gets by signing in with an admin key at /dashboard (POST /dashboard/login).
 */
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { errors, GatewayError } from '../core/errors.js';
import { dashboardHtml, dashboardLoginHtml } from '../dashboard/dashboard-html.js';
import { DashboardSessions, SESSION_COOKIE } from '../dashboard/dashboard-sessions.js';

const WINDOW = /^(\d+)([mhd])$/;

function windowMs(since: string): number {
  const m = WINDOW.exec(since);
  if (!m) throw errors.invalid("'since' must look like 30m, 6h or 7d.", 'since');
  return Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000);
}

export function operatorRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  const op = s.deps.operator;
  const sessions = new DashboardSessions();

  /** true when the caller may see the dashboard; throws 401/403 for a wrong or non-admin Bearer key. */
  const signedIn = async (c: Context<GatewayEnv>): Promise<boolean> => {
    if (!s.auth.enabled) return true;
    if (sessions.check(getCookie(c, SESSION_COOKIE))) return true;
    const header = c.req.header('authorization');
    if (!header) return false;
    const principal = await s.auth.authenticate(header);
    if (principal.role !== 'admin') throw new GatewayError('This endpoint needs an admin key.', { status: 403, code: 'admin_required' });
    c.get('ctx').principal = principal;
    return true;
  };

  app.get('/metrics', async (c) => {
    if (!op?.metricsText) throw errors.notFound('/metrics');
    return c.text(await op.metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  app.get('/dashboard', async (c) => {
    const ok = await signedIn(c);
    if (!op?.report) throw errors.notFound('/dashboard');
    const since = c.req.query('since') ?? '1h';
    windowMs(since); // 400 for a malformed range, as data.json answers
    if (!ok) return c.html(dashboardLoginHtml({ since }), 401);
    // ?refresh=N seconds (at least 2) overrides the auto-refresh period.
    const refresh = Number(c.req.query('refresh'));
    const session = s.auth.enabled && sessions.check(getCookie(c, SESSION_COOKIE)) !== undefined;
    return c.html(dashboardHtml({ since, refreshSeconds: Number.isInteger(refresh) && refresh >= 2 ? refresh : undefined, signOut: session }));
  });
  app.post('/dashboard/login', async (c) => {
    if (!op?.report) throw errors.notFound('/dashboard/login');
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const key = typeof form['key'] === 'string' ? form['key'] : '';
    const since = typeof form['since'] === 'string' && WINDOW.test(form['since']) ? form['since'] : undefined;
    if (!s.auth.enabled) return c.redirect('/dashboard', 303);
    const principal = await s.auth.authenticate(`Bearer ${key}`).catch(() => undefined);
    if (!principal || principal.role !== 'admin') {
      return c.html(dashboardLoginHtml({ error: principal ? 'That key is not an admin key.' : 'Unknown key.', since }), 401);
    }
    setCookie(c, SESSION_COOKIE, sessions.create(principal.keyId), {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/dashboard',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge: Math.floor(sessions.ttlMs / 1000),
    });
    return c.redirect(since ? `/dashboard?since=${since}` : '/dashboard', 303);
  });
  app.post('/dashboard/logout', (c) => {
    sessions.end(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/dashboard' });
    return c.redirect('/dashboard', 303);
  });
  app.get('/dashboard/chart.js', (c) => {
    if (!op?.chartJs) throw errors.notFound('/dashboard/chart.js');
    return c.body(op.chartJs, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
  });
  app.get('/dashboard/data.json', async (c) => {
    const ok = await signedIn(c);
    if (!op?.report) throw errors.notFound('/dashboard/data.json');
    const ms = windowMs(c.req.query('since') ?? '1h');
    if (!ok) throw new GatewayError('Sign in at /dashboard, or send an admin key as a Bearer token.', { status: 401, code: 'invalid_api_key' });
    return c.json(await op.report(ms));
  });
}
