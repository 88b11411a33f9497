/**
 * The destinations a gateway config declares, as name-only upstreams (no pools, no engines, nothing is called):
 * what `policies check|explain` route against. Edge destinations are named as the running gateway names them
 * (gateway/upstreams/edge/start-edge-upstreams.ts): `edge` for one model, `edge-0`, `edge-1`, ... for several.
 */
import { DEFAULT_MODEL_ID } from '../../edge-runtime/index.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Upstream, UpstreamModel, UpstreamResult } from '../core/upstream.js';
import type { Zone } from '../core/types.js';

class DeclaredUpstream implements Upstream {
  constructor(
    readonly id: string,
    readonly zone: Zone,
    readonly models: readonly UpstreamModel[],
  ) {}
  call(): Promise<UpstreamResult> {
    return Promise.reject(new Error(`${this.id} is a declared upstream: nothing is called`));
  }
  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }
  load() {
    return { inFlight: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function declaredUpstreams(config: GatewayConfig): Upstream[] {
  const edgeModels = !config.edge.enabled ? [] : config.edge.models.length > 0 ? config.edge.models.map((m) => m.id) : [DEFAULT_MODEL_ID];
  const edge = edgeModels.map(
    (id, i) =>
      new DeclaredUpstream(edgeModels.length === 1 ? 'edge' : `edge-${i}`, 'device', [{ id, upstreamModel: id, ownedBy: 'switchyard-edge' }]),
  );
  const cloud = config.upstreams.map(
    (u) =>
      new DeclaredUpstream(
        u.id,
        u.zone,
        u.models.map((m) =>
          typeof m === 'string' ? { id: m, upstreamModel: m, ownedBy: u.id } : { id: m.id, upstreamModel: m.upstream_model ?? m.id, ownedBy: u.id },
        ),
      ),
  );
  return [...edge, ...cloud];
}
