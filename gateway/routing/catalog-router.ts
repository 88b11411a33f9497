/** The router without a policy file: every upstream serving the model, in configuration order. */
import type { Decision, RouteInput, Router } from '../core/decision.js';
import type { ModelCatalog } from '../core/model-catalog.js';

export class CatalogRouter implements Router {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly hedge = false,
  ) {}

  decide(input: RouteInput): Decision {
    const { model, temperature } = input.request;
    const cands = this.catalog.candidates(model);
    if (cands.length === 0) throw this.catalog.notFound(model, input.principal);
    return {
      candidates: cands.map((c) => ({ upstream: c.upstream, upstreamModel: c.upstreamModel, zone: c.upstream.zone })),
      edgeOnly: false,
      hedge: this.hedge,
      tags: input.principal.defaultTags,
      ruleId: 'default',
      policyVersion: 'none',
      // Without a policy only deterministic requests are cacheable.
      cache: { enabled: temperature === 0, ttlSeconds: 300 },
      trace: [`no policy: ${cands.length} upstream(s) serve '${model}' in configuration order`],
    };
  }
}
