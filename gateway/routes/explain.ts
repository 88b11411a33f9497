/** POST /v1/route/explain: the routing decision and its trace for a request, without calling any model. */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { readJsonBody, validate } from '../core/read-body.js';
import type { Decision } from '../core/decision.js';

const explainable = z.looseObject({ model: z.string().min(1) });

export function explainDecision(d: Decision): Record<string, unknown> {
  return {
    rule: d.ruleId,
    policy_version: d.policyVersion,
    candidates: d.candidates.map((c) => ({ upstream: c.upstream.id, zone: c.zone, model: c.upstreamModel })),
    edge_only: d.edgeOnly,
    tags: d.tags,
    cache: d.cache,
    hedge: d.hedge ?? false,
    deadline_ms: d.deadline !== undefined ? d.deadline - Date.now() : null,
    redacted: d.body !== undefined,
    trace: d.trace,
  };
}

export function explainRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.post('/v1/route/explain', async (c) => {
    const ctx = c.get('ctx');
    const { json } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
    const req = validate(explainable, json);
    const endpoint = Array.isArray(json['messages']) ? 'chat.completions' : 'completions';
    const d = await s.router.decide({ endpoint, model: req.model, body: json, headers: c.req.raw.headers, principal: ctx.principal });
    return c.json(explainDecision(d));
  });
}
