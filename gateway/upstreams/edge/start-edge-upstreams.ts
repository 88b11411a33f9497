/** Node wiring of the edge runtime: one engine worker per configured model (or the embedded default) as an upstream. */
import type { EdgeConfig } from '../../config/schema.js';
import type { Logger } from '../../core/logger.js';
import { EdgeUpstream } from './edge-upstream.js';
import { EdgeEmbeddingUpstream } from './edge-embedding-upstream.js';
import { DEFAULT_MODEL_ID, ENGINE_DEFAULTS, ensureDefaultModel, startEmbedder, startEngine } from '../../../edge-runtime/index.js';

/** The edge destination's name in policies: `edge` for one model, `edge-0`, `edge-1`, ... in config order for several. */
export function edgeUpstreamId(index: number, count: number): string {
  return count === 1 ? 'edge' : `edge-${index}`;
}

export async function startEdgeUpstreams(cfg: EdgeConfig, logger: Logger): Promise<Array<EdgeUpstream | EdgeEmbeddingUpstream>> {
  if (!cfg.enabled) return [];
  const models =
    cfg.models.length > 0 ? cfg.models : [{ id: DEFAULT_MODEL_ID, path: await ensureDefaultModel(cfg.cache_dir), variant: 'q4' as const }];
  if (cfg.models.length === 0) {
    logger.info(
      { model: DEFAULT_MODEL_ID, path: models[0]!.path },
      'no edge model configured: serving the embedded default (random weights: its text is meaningless)',
    );
  }
  const generators = models.filter((m) => !('task' in m) || m.task !== 'embeddings').length;
  const perModelBudget = Math.floor(((cfg.kv_budget_mb ?? ENGINE_DEFAULTS.kvBudgetMb) * 1024 * 1024) / Math.max(1, generators));
  return models.map((m, i) => {
    if ('task' in m && m.task === 'embeddings') {
      // An embedding model has no KV cache or scheduler: its own worker batches inputs across requests.
      const model = startEmbedder({ modelDir: m.path, modelId: m.id });
      model.loaded.then(
        () => logger.info({ model: m.id, dimensions: model.dimensions(), maxTokens: model.maxTokens() }, `edge embedding model '${m.id}' loaded`),
        (err: unknown) => logger.error({ model: m.id, err: err instanceof Error ? err.message : String(err) }, 'edge model failed to load'),
      );
      return new EdgeEmbeddingUpstream(edgeUpstreamId(i, models.length), model, [m.id], cfg.load_wait_ms);
    }
    const engine = startEngine({
      modelDir: m.path,
      modelId: m.id,
      variant: m.variant,
      kvBudgetBytes: perModelBudget,
      maxNumSeqs: cfg.max_num_seqs,
      maxBatchedTokens: cfg.max_batched_tokens,
      threadSpinning: cfg.thread_spinning,
    });
    engine.loaded.then(
      () => {
        const l = engine.loadReport();
        // The one line that says which file and which execution path this model runs, and why.
        logger.info(
          { model: m.id, variant: l?.variant, file: l?.file, path: l?.path, proofMaxDiff: l?.proofMaxDiff, loadMs: l?.loadMs },
          l ? `edge model '${m.id}' loaded: ${l.variantReason}; ${l.pathReason}` : `edge model '${m.id}' loaded`,
        );
      },
      (err: unknown) => logger.error({ model: m.id, err: err instanceof Error ? err.message : String(err) }, 'edge model failed to load'),
    );
    return new EdgeUpstream(edgeUpstreamId(i, models.length), engine, [m.id], cfg.load_wait_ms);
  });
}
