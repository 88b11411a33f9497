/** An edge embedding model as a gateway Upstream: /v1/embeddings answered on this host (OpenAI's response shape). */
import { Buffer } from 'node:buffer';
import { GatewayError, type ErrorCode } from '../../core/errors.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { Upstream, UpstreamCall, UpstreamLoad, UpstreamModel, UpstreamResult, UpstreamStatus } from '../../core/upstream.js';
import { abortError } from '../../core/abort.js';
import { toAbortSignal } from '../../core/cancel.js';
import { ModelLoading } from './model-loading.js';
import { EmbeddingError, type EmbeddingErrorReason, type EmbeddingHandle } from '../../../edge-runtime/index.js';

const REASONS: Record<EmbeddingErrorReason, { status: number; code: ErrorCode }> = {
  invalid_prompt: { status: 400, code: 'invalid_prompt' },
  context_length: { status: 400, code: 'context_length_exceeded' },
  unavailable: { status: 503, code: 'edge_unavailable' },
};

export class EdgeEmbeddingUpstream implements Upstream {
  readonly zone = 'device' as const;
  readonly models: readonly UpstreamModel[];
  private inFlight = 0;
  private readonly loading: ModelLoading;

  constructor(
    readonly id: string,
    private readonly model: EmbeddingHandle,
    modelIds: string[] = [model.modelId],
    loadWaitMs = 30_000,
  ) {
    this.models = modelIds.map((m) => ({ id: m, upstreamModel: model.modelId, ownedBy: 'switchyard-edge' }));
    this.loading = new ModelLoading(model, id, loadWaitMs);
  }

  loaded(): Promise<void> {
    return this.model.loaded;
  }

  status(): UpstreamStatus {
    if (this.loading.failure !== undefined) return { state: 'failed', reason: this.loading.failure };
    return this.model.isReady() ? { state: 'ready', reason: `embeddings, ${this.model.dimensions()} dimensions` } : { state: 'loading' };
  }

  async ready(): Promise<boolean> {
    return this.model.isReady();
  }

  load(): UpstreamLoad {
    return { inFlight: this.inFlight };
  }

  async close(): Promise<void> {
    await this.model.close();
  }

  async call(call: UpstreamCall): Promise<UpstreamResult> {
    if (call.endpoint !== 'embeddings') {
      throw new GatewayError(`The edge model '${this.model.modelId}' serves embeddings only (POST /v1/embeddings).`, {
        status: 400,
        code: 'unsupported_endpoint',
        param: 'model',
      });
    }
    const texts = inputTexts(call.body['input']);
    await this.loading.wait(call);
    const width = this.model.dimensions();
    const wanted = call.body['dimensions'];
    if (typeof wanted === 'number' && wanted > width) {
      throw new GatewayError(`'dimensions' can be at most ${width} for '${this.model.modelId}'.`, {
        status: 400,
        code: 'invalid_value',
        param: 'dimensions',
      });
    }
    const base64 = call.body['encoding_format'] === 'base64';
    this.inFlight++;
    try {
      const { vectors, promptTokens } = await this.model.embed(texts, toAbortSignal(call.signal));
      const data = vectors.map((v, index) => {
        // Fewer dimensions: the leading ones, renormalised (what OpenAI documents for its shortened embeddings).
        const out = typeof wanted === 'number' && wanted < width ? renormalise(v.slice(0, wanted)) : v;
        const embedding: JsonValue = base64 ? Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('base64') : Array.from(out);
        return { object: 'embedding', index, embedding };
      });
      const usage = { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens };
      const body: JsonObject = {
        object: 'list',
        data,
        model: String(call.body['model'] ?? this.model.modelId),
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      };
      return { kind: 'json', body, usage };
    } catch (err) {
      if (call.signal.aborted) throw abortError(call.signal);
      if (err instanceof EmbeddingError) {
        const { status, code } = REASONS[err.reason];
        throw new GatewayError(err.message, { status, code, param: status === 400 ? 'input' : null, upstream: this.id, retryable: status >= 500 });
      }
      throw err;
    } finally {
      this.inFlight--;
    }
  }
}

/** The request's inputs as texts (validated upstream by the request schema; token-id arrays are refused here). */
function inputTexts(input: JsonValue | undefined): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((x): x is string => typeof x === 'string')) return input;
  throw new GatewayError('Edge embedding models take text inputs (a string or an array of strings), not token ids.', {
    status: 400,
    code: 'invalid_value',
    param: 'input',
  });
}

function renormalise(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return n > 0 ? v.map((x) => x / n) : v;
}
