/** The inference route's one call into the semantic cache: probe (embed on the edge) and look up. */
import type { Decision } from '../core/decision.js';
import type { InferenceRequest } from '../core/inference-request.js';
import type { RequestContext } from '../core/request-context.js';
import type { GatewayServices } from '../services.js';
import type { SemanticHit, SemanticProbe } from './semantic-cache.js';
import type { CancelSignal } from '../core/cancel.js';

export interface SemanticLookup {
  probe: SemanticProbe;
  hit?: SemanticHit;
}

export async function semanticLookup(
  s: GatewayServices,
  ctx: RequestContext,
  request: InferenceRequest,
  decision: Decision,
  signal: CancelSignal,
): Promise<SemanticLookup | undefined> {
  const rule = decision.cache.semantic;
  if (!rule || !s.semanticCache || request.endpoint === 'embeddings') return undefined;
  const probe = await s.semanticCache.probe({
    endpoint: request.endpoint,
    body: decision.body ?? request.body,
    model: request.model,
    tenant: ctx.principal.tenant,
    policyVersion: decision.policyVersion,
    tags: decision.tags,
    rule,
    requestId: ctx.id,
    signal,
  });
  if (!probe) return undefined;
  return { probe, hit: await s.semanticCache.lookup(probe) };
}
