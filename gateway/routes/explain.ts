/** POST /v1/route/explain: the routing decision and its trace for a request, without calling any model. */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { readJsonBody } from '../core/read-body.js';
import { parseInferenceRequest } from '../core/inference-request.js';
import type { Decision } from '../core/decision.js';

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
    const { json, bytes } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
    // The same parse as the inference routes, so the explained decision is the one a real request would get.
    const endpoint = Array.isArray(json['messages']) ? 'chat.completions' : 'input' in json ? 'embeddings' : 'completions';
    const request = parseInferenceRequest(endpoint, json, bytes, s.config.server.limits);
    const d = await s.router.decide({ request, headers: c.req.raw.headers, principal: ctx.principal });
    return c.json(explainDecision(d));
  });
}
