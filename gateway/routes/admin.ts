/** GET /admin/policies (+ POST replay, activate) and GET /admin/upstreams: each upstream's zone, models, breaker state and load (behind an admin key when keys exist). */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { errors, GatewayError } from '../core/errors.js';
import { readJsonBody } from '../core/read-body.js';
import { validate } from '../core/validate.js';

const replayBody = z.strictObject({ policy: z.string().min(1), since_hours: z.number().positive().max(720).optional() });
const activateBody = z.strictObject({ force: z.boolean().default(false) });

export function adminRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.get('/admin/policies', (c) => {
    const status = s.deps.policyStatus?.() ?? null;
    return c.json({ policy: status ?? { source: null, version: 'none', lastError: null, note: 'no policy file configured' } });
  });

  // Replay recent records under a candidate policy (YAML text in `policy`), before it goes live.
  app.post('/admin/policies/replay', async (c) => {
    const admin = s.deps.policyAdmin;
    if (!admin) throw new GatewayError('Policy replay needs a policy file and a records sink.', { status: 404, code: 'unknown_url' });
    // Same body rules as every other route: read under the body limit, malformed JSON and bad fields named in a 400.
    const body = validate(replayBody, (await readJsonBody(c.req.raw, s.config.server.body_limit_bytes)).json);
    const maxHours = s.config.policies?.replay_window_hours ?? 168;
    if (body.since_hours !== undefined && body.since_hours > maxHours)
      throw errors.invalid(`since_hours may be at most policies.replay_window_hours (${maxHours}).`, 'since_hours', 'invalid_value');
    return c.json(await admin.replay(body.policy, body.since_hours ? body.since_hours * 3_600_000 : undefined));
  });

  // Activate the edit the replay gate held back (it would let a data class reach a new zone): only with force.
  app.post('/admin/policies/activate', async (c) => {
    const admin = s.deps.policyAdmin;
    if (!admin) throw new GatewayError('No policy file is configured.', { status: 404, code: 'unknown_url' });
    const { force } = validate(activateBody, (await readJsonBody(c.req.raw, s.config.server.body_limit_bytes)).json);
    const r = await admin.activate(force);
    if (!r.ok) throw errors.invalid(r.error ?? 'not activated', 'force', 'invalid_value');
    return c.json({ activated: r.version });
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
