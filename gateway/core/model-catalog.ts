/** Which upstreams serve which client-facing model names: the union of every upstream's models. */
import type { Upstream } from './upstream.js';
import { errors, type GatewayError } from './errors.js';
import { modelAllowed, type Principal } from './principal.js';

export interface Candidate {
  upstream: Upstream;
  /** Name the upstream knows the model by. */
  upstreamModel: string;
}

export class ModelCatalog {
  private readonly byModel = new Map<string, Candidate[]>();

  constructor(readonly upstreams: readonly Upstream[]) {
    for (const upstream of upstreams) {
      for (const m of upstream.models) {
        const list = this.byModel.get(m.id) ?? [];
        list.push({ upstream, upstreamModel: m.upstreamModel });
        this.byModel.set(m.id, list);
      }
    }
  }

  /** Upstreams serving `model`, in configuration order (edge before cloud when both are configured first). */
  candidates(model: string): readonly Candidate[] {
    return this.byModel.get(model) ?? [];
  }

  /** OpenAI `GET /v1/models` list entries. */
  list(created: number): Array<{ id: string; object: 'model'; created: number; owned_by: string }> {
    return [...this.byModel.entries()].map(([id, cands]) => ({
      id,
      object: 'model' as const,
      created,
      owned_by: cands[0]!.upstream.models.find((m) => m.id === id)?.ownedBy ?? cands[0]!.upstream.id,
    }));
  }

  /** Every client-facing model name, in configuration order. */
  modelIds(): string[] {
    return [...this.byModel.keys()];
  }

  /** 404 model_not_found listing the models the caller may use. */
  notFound(model: string, principal?: Principal): GatewayError {
    return errors.modelNotFound(model, principal ? this.modelIds().filter((id) => modelAllowed(principal, id)) : this.modelIds());
  }

  upstream(id: string): Upstream | undefined {
    return this.upstreams.find((u) => u.id === id);
  }
}
