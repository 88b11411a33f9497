/**
 * The semantic cache: an in-memory vector index per namespace (tenant + policy version + model + everything but the
 * conversation text) pointing at answers held in the result cache store (memory or Redis). Vectors come only from an
 * edge embedding model, so prompts never leave the host for a lookup. An index entry whose answer is gone from the
 * store (expired, evicted) is dropped when found.
 */
import type { CacheStore } from '../cache/cache-store.js';
import type { SemanticCacheRule } from '../core/decision.js';
import type { Endpoint, JsonObject } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { sha256Hex } from '../core/sha256.js';
import { isJsonObject } from '../core/validate.js';
import { semanticParts } from './semantic-text.js';
import { VectorIndex } from './vector-index.js';
import type { CancelSignal } from '../core/cancel.js';

export interface SemanticProbe {
  namespace: string;
  vector: Float32Array;
  threshold: number;
}

export interface SemanticHit {
  answer: JsonObject;
  similarity: number;
}

interface Entry {
  namespace: string;
  expiresAt: number;
}

export class SemanticCache {
  private readonly spaces = new Map<string, VectorIndex>();
  /** Every entry by cache key, oldest first: the bound on memory evicts from the front. */
  private readonly entries = new Map<string, Entry>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly store: CacheStore,
    private readonly maxEntries: number,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The request's namespace and vector, or undefined when it cannot take part: tagged without the rule's opt-in, no
   * comparable text, or no edge embedding model to ask (never a cloud one), or the embedding failed (too long).
   */
  async probe(a: {
    endpoint: Endpoint;
    body: JsonObject;
    model: string;
    tenant: string;
    policyVersion: string;
    tags: readonly string[];
    rule: SemanticCacheRule;
    requestId: string;
    signal: CancelSignal;
  }): Promise<SemanticProbe | undefined> {
    if (a.tags.length > 0 && !a.rule.tagged) return undefined;
    const parts = semanticParts(a.endpoint, a.body);
    if (!parts) return undefined;
    const vector = await this.embed(a.rule.embeddingModel, parts.text, a.requestId, a.signal);
    if (!vector) return undefined;
    const namespace = await sha256Hex(JSON.stringify([a.tenant, a.policyVersion, a.model, a.rule.embeddingModel, parts.exact]));
    return { namespace, vector, threshold: a.rule.threshold };
  }

  /** The closest earlier answer at or above the threshold, if its entry is still in the store. */
  async lookup(p: SemanticProbe): Promise<SemanticHit | undefined> {
    const index = this.spaces.get(p.namespace);
    // A few tries: each stale nearest entry is dropped and the next nearest considered.
    for (let attempt = 0; index && attempt < 3; attempt++) {
      const n = index.nearest(p.vector);
      if (!n || n.similarity < p.threshold) return undefined;
      const entry = this.entries.get(n.id);
      const answer = entry && entry.expiresAt > Date.now() ? await this.store.get(n.id) : undefined;
      if (answer) return { answer, similarity: n.similarity };
      this.forget(n.id);
    }
    return undefined;
  }

  /** Indexes an answer just stored in the result cache under `key` (its exact-match key). */
  remember(p: SemanticProbe, key: string, ttlSeconds: number): void {
    let index = this.spaces.get(p.namespace);
    if (!index) this.spaces.set(p.namespace, (index = new VectorIndex(p.vector.length)));
    if (index.dimensions !== p.vector.length) return;
    this.entries.delete(key);
    this.entries.set(key, { namespace: p.namespace, expiresAt: Date.now() + ttlSeconds * 1000 });
    index.add(key, p.vector);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.forget(oldest);
    }
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const index = this.spaces.get(entry.namespace);
    index?.remove(key);
    if (index && index.size === 0) this.spaces.delete(entry.namespace);
  }

  /** One embedding from an edge destination serving `model`; undefined (no semantic lookup) when it cannot. */
  private async embed(model: string, text: string, requestId: string, signal: CancelSignal): Promise<Float32Array | undefined> {
    const edge = this.catalog.candidates(model).find((c) => c.upstream.zone === 'device');
    if (!edge) {
      this.warnOnce(model, `semantic cache: '${model}' is not served by an edge embedding model; semantic lookups are off for it`);
      return undefined;
    }
    try {
      const r = await edge.upstream.call({
        endpoint: 'embeddings',
        body: { model: edge.upstreamModel, input: text, encoding_format: 'float' },
        stream: false,
        signal,
        requestId: `${requestId}:semantic`,
      });
      const first = r.kind === 'json' && Array.isArray(r.body['data']) ? r.body['data'][0] : undefined;
      const values = isJsonObject(first) ? first['embedding'] : undefined;
      if (!Array.isArray(values) || !values.every((x) => typeof x === 'number')) return undefined;
      // The index compares by dot product: unit length makes that the cosine whatever the encoder returns.
      const v = Float32Array.from(values as number[]);
      let norm = 0;
      for (const x of v) norm += x * x;
      if (!(norm > 0)) return undefined;
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < v.length; i++) v[i]! *= inv;
      return v;
    } catch (err) {
      // A prompt the encoder cannot take (too long) or an edge hiccup costs the lookup, never the request.
      this.logger.debug({ err: err instanceof Error ? err.message : String(err), model }, 'semantic cache: no embedding');
      return undefined;
    }
  }

  private warnOnce(model: string, message: string): void {
    if (this.warned.has(model)) return;
    this.warned.add(model);
    this.logger.warn({ model }, message);
  }
}
