/** The gateway thread's side of the engine: a worker_thread owning onnxruntime, spoken to by messages only. */
import { Worker } from 'node:worker_threads';
import type { EngineHandle } from './engine-handle.js';
import { engineOptionsSchema, type EngineOptionsInput } from '../engine/engine-options.js';
import type { EngineLoadReport, EngineRequest, EngineStats, FromEngine, ToEngine } from '../engine/protocol.js';

const WORKER_URL = new URL('./engine-worker-boot.mjs', import.meta.url);

export class EngineClient implements EngineHandle {
  readonly modelId: string;
  private readonly worker: Worker;
  private readonly listeners = new Map<string, (m: FromEngine) => void>();
  private stats: EngineStats | undefined;
  private readyState: 'loading' | 'ready' | 'failed' = 'loading';
  maxContext = 0;
  private load: EngineLoadReport | undefined;
  readonly loaded: Promise<void>;
  private closing = false;
  /** Settles on the worker's 'exit', whenever that happens: close() may come after it. */
  private readonly exited: Promise<void>;

  constructor(options: EngineOptionsInput) {
    const opts = engineOptionsSchema.parse(options);
    this.modelId = opts.modelId;
    // Run the TypeScript worker through tsx, as the rest of the project runs.
    this.worker = new Worker(WORKER_URL, { workerData: opts });
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.loaded = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: FromEngine) => {
        if (m.type === 'ready') {
          this.readyState = 'ready';
          this.maxContext = m.maxContext;
          this.load = m.load;
          resolve();
        } else if (m.type === 'fatal') {
          this.readyState = 'failed';
          reject(new Error(m.message));
        } else if (m.type === 'stats') {
          this.stats = m.stats;
        } else if ('id' in m) {
          const l = this.listeners.get(m.id);
          if (!l) return;
          if (m.type === 'done' || m.type === 'error') this.listeners.delete(m.id);
          l(m);
        }
      });
      this.worker.on('error', (err) => {
        this.readyState = 'failed';
        reject(err);
        this.failAll(`The edge engine crashed: ${err.message}`);
      });
      this.worker.on('exit', (code) => {
        if (this.readyState === 'loading') reject(new Error(`edge engine exited during load (code ${code})`));
        this.readyState = 'failed';
        if (!this.closing) this.failAll(`The edge engine exited (code ${code}).`);
      });
    });
    this.loaded.catch(() => undefined);
  }

  private failAll(message: string): void {
    for (const [id, l] of this.listeners) l({ type: 'error', id, reason: 'unavailable', message });
    this.listeners.clear();
  }

  private send(m: ToEngine): void {
    this.worker.postMessage(m);
  }

  submit(request: EngineRequest, listener: (msg: FromEngine) => void): void {
    if (this.readyState !== 'ready') {
      listener({
        type: 'error',
        id: request.id,
        reason: 'unavailable',
        message: `The edge model '${this.modelId}' is ${this.readyState === 'loading' ? 'still loading' : 'not available'}.`,
      });
      return;
    }
    this.listeners.set(request.id, listener);
    this.send({ type: 'submit', request });
  }

  cancel(id: string): void {
    if (this.listeners.delete(id)) this.send({ type: 'cancel', id });
  }

  loadReport(): EngineLoadReport | undefined {
    return this.load;
  }

  lastStats(): EngineStats | undefined {
    return this.stats;
  }

  isReady(): boolean {
    return this.readyState === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    this.send({ type: 'shutdown' });
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}
