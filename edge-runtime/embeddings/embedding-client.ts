/** The gateway thread's side of an embedding model: a worker_thread spoken to by messages only. */
import { Worker } from 'node:worker_threads';
import {
  embedderOptionsSchema,
  type EmbedderOptionsInput,
  type EmbeddingErrorReason,
  type EmbeddingResult,
  type FromEmbedder,
} from './embedding-protocol.js';

const WORKER_URL = new URL('./embedding-worker-boot.mjs', import.meta.url);

/** An embed call the model refused or could not run; `reason` says why (the gateway maps it to a status). */
export class EmbeddingError extends Error {
  constructor(
    readonly reason: EmbeddingErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface EmbeddingHandle {
  readonly modelId: string;
  readonly loaded: Promise<void>;
  isReady(): boolean;
  /** Vector width; 0 until loaded. */
  dimensions(): number;
  maxTokens(): number;
  /** Unit vectors, one per text, in order. Rejects with EmbeddingError; an aborted signal cancels queued work. */
  embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult>;
  close(): Promise<void>;
}

export class EmbeddingClient implements EmbeddingHandle {
  readonly modelId: string;
  readonly loaded: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<string, { resolve: (r: EmbeddingResult) => void; reject: (e: Error) => void }>();
  private state: 'loading' | 'ready' | 'failed' = 'loading';
  private dim = 0;
  private maxLen = 0;
  private seq = 0;
  private closing = false;
  /** Settles on the worker's 'exit', whenever that happens: close() may come after it. */
  private readonly exited: Promise<void>;

  constructor(options: EmbedderOptionsInput) {
    const opts = embedderOptionsSchema.parse(options);
    this.modelId = opts.modelId;
    this.worker = new Worker(WORKER_URL, { workerData: opts });
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.loaded = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: FromEmbedder) => {
        if (m.type === 'ready') {
          this.state = 'ready';
          this.dim = m.dimensions;
          this.maxLen = m.maxTokens;
          resolve();
        } else if (m.type === 'fatal') {
          this.state = 'failed';
          reject(new Error(m.message));
          this.failAll(m.message);
        } else {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (m.type === 'error') p.reject(new EmbeddingError(m.reason, m.message));
          else
            p.resolve({
              vectors: Array.from({ length: m.vectors.length / m.dimensions }, (_, i) =>
                m.vectors.subarray(i * m.dimensions, (i + 1) * m.dimensions),
              ),
              promptTokens: m.promptTokens,
            });
        }
      });
      this.worker.on('error', (err) => {
        this.state = 'failed';
        reject(err);
        this.failAll(`The embedding model crashed: ${err.message}`);
      });
      this.worker.on('exit', (code) => {
        if (this.state === 'loading') reject(new Error(`embedding worker exited during load (code ${code})`));
        this.state = 'failed';
        if (!this.closing) this.failAll(`The embedding worker exited (code ${code}).`);
      });
    });
    this.loaded.catch(() => undefined);
  }

  private failAll(message: string): void {
    for (const p of this.pending.values()) p.reject(new EmbeddingError('unavailable', message));
    this.pending.clear();
  }

  isReady(): boolean {
    return this.state === 'ready';
  }

  dimensions(): number {
    return this.dim;
  }

  maxTokens(): number {
    return this.maxLen;
  }

  embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    if (this.state !== 'ready')
      return Promise.reject(
        new EmbeddingError(
          'unavailable',
          `The embedding model '${this.modelId}' is ${this.state === 'loading' ? 'still loading' : 'not available'}.`,
        ),
      );
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const id = `e${++this.seq}`;
    return new Promise<EmbeddingResult>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.worker.postMessage({ type: 'cancel', id });
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.worker.postMessage({ type: 'embed', id, texts });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.worker.postMessage({ type: 'shutdown' });
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await this.exited;
    clearTimeout(timer);
    this.failAll('The embedding model was closed.');
  }
}
