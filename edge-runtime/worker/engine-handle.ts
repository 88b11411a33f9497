/** What a caller holds of a running engine: submit, cancel, stats, readiness. The worker client implements it. */
import type { EngineLoadReport, EngineRequest, EngineStats, FromEngine } from '../engine/protocol.js';

export interface EngineHandle {
  readonly modelId: string;
  /** Resolves when the model is loaded and the engine takes requests; rejects with the reason it could not load. */
  readonly loaded: Promise<void>;
  submit(request: EngineRequest, listener: (msg: FromEngine) => void): void;
  cancel(id: string): void;
  /** Which weight file and execution path the engine chose at load, and why (once loaded). */
  loadReport(): EngineLoadReport | undefined;
  /** Latest stats the engine reported (refreshed in the background). */
  lastStats(): EngineStats | undefined;
  isReady(): boolean;
  close(): Promise<void>;
}
