/** A local model's loading as an upstream sees it: the load failure for status(), and requests that wait for the load. */
import { GatewayError } from '../../core/errors.js';
import type { UpstreamCall } from '../../core/upstream.js';
import { onAbort } from '../../core/abort.js';

/** What both edge model handles (generation engine, embedder) share about loading. */
export interface LoadingModel {
  readonly modelId: string;
  readonly loaded: Promise<void>;
  isReady(): boolean;
}

export class ModelLoading {
  /** Why the load failed, once it has. */
  failure: string | undefined;

  constructor(
    private readonly model: LoadingModel,
    private readonly upstreamId: string,
    /** How long a request without a deadline waits for a model still loading. */
    private readonly loadWaitMs: number,
  ) {
    model.loaded.catch((err: unknown) => {
      this.failure = err instanceof Error ? err.message : String(err);
    });
  }

  /** A request arriving while the model loads waits for it, up to its deadline or loadWaitMs, instead of a 503. */
  async wait(call: UpstreamCall): Promise<void> {
    if (this.model.isReady()) return;
    const waitMs = Math.max(0, (call.deadline ?? Date.now() + this.loadWaitMs) - Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unlink = onAbort(call.signal, () => clearTimeout(timer));
    try {
      await Promise.race([this.model.loaded, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    } catch (err) {
      throw new GatewayError(`The edge model '${this.model.modelId}' cannot be served: ${err instanceof Error ? err.message : String(err)}`, {
        status: 503,
        code: 'edge_unavailable',
        upstream: this.upstreamId,
      });
    } finally {
      clearTimeout(timer);
      unlink();
    }
  }
}
