/**
 * POST /v1/route/explain: what a real request with this body and key would get, without calling any model. It runs
 * the real admission steps (routes/admission.ts) as a dry run: model allow-list, rate limits and budgets checked
 * without consuming them, the policy decision. The answer is 200 either way: `outcome: route` with the destination,
 * or `outcome: refuse` with the status and code the real request would get, and the trace of every step.
 */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { readJsonBody } from '../core/read-body.js';
import { parseInferenceRequest } from '../core/inference-request.js';
import type { Decision } from '../core/decision.js';
import { GatewayError } from '../core/errors.js';
import type { RequestContext } from '../core/request-context.js';
import { admit, decide } from './admission.js';

export function explainDecision(d: Decision): Record<string, unknown> {
  return {
    rule: d.ruleId,
    policy_version: d.policyVersion,
    candidates: d.candidates.map((c) => ({ upstream: c.upstream.id, zone: c.zone, model: c.upstreamModel })),
    edge_only: d.edgeOnly,
    tags: d.tags,
    zone_limits: (d.zoneLimits ?? []).map((l) => ({ class: l.dataClass, zones: l.zones })),
    cache: d.cache,
    hedge: d.hedge ?? false,
    deadline_ms: d.deadline !== undefined ? d.deadline - Date.now() : null,
    redacted: d.body !== undefined,
    trace: d.trace,
  };
}

export function explainRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.post('/v1/route/explain', async (c) => {
    const real = c.get('ctx');
    // A scratch context: the dry run must not leave finalizers, headers or a record on the explain request itself.
    const ctx: RequestContext = { ...real, headers: {}, finalizers: undefined, recorded: false };
    const p = ctx.principal;
    const trace: string[] = [s.auth.enabled ? `auth: key '${p.keyId}' (tenant '${p.tenant}')` : 'auth: open gateway (anonymous)'];
    try {
      const { json, bytes } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
      // The same parse as the inference routes, so the explained decision is the one a real request would get.
      const endpoint = Array.isArray(json['messages']) ? 'chat.completions' : 'input' in json ? 'embeddings' : 'completions';
      const request = parseInferenceRequest(endpoint, json, bytes, s.config.server.limits);
      trace.push(`request: ${endpoint}, model '${request.model}', ~${request.tokens.prompt} prompt tokens`);
      await admit(s, ctx, request, { dryRun: true, trace });
      const d = await decide(s, ctx, request, c.req.raw.headers, { dryRun: true, trace });
      const destination = d.candidates[0]?.upstream.id ?? null;
      trace.push(`outcome: route to ${destination}`);
      return c.json({ outcome: 'route', status: 200, destination, ...explainDecision(d), trace });
    } catch (err) {
      // A refusal is an answer too: the status and code the real request would get, and the steps that led there.
      if (!(err instanceof GatewayError) || err.code === 'client_closed_request') throw err;
      trace.push(`outcome: refuse with ${err.status} ${err.code}`);
      return c.json({ outcome: 'refuse', status: err.status, code: err.code, message: err.message, param: err.param, trace });
    }
  });
}
