/**
 * The edge runtime's one door: everything outside edge-runtime/ (the gateway, its CLI) imports only this module.
 * It offers an engine handle (start, submit, cancel, stats, readiness) and model-folder functions; it knows nothing of
 * HTTP or the gateway, and reports reasons (EngineErrorReason, FinishReason) rather than statuses.
 */
import { EngineClient } from './worker/engine-client.js';
import type { EngineOptionsInput } from './engine/engine-options.js';
import type { EngineHandle } from './worker/engine-handle.js';
import { EmbeddingClient, type EmbeddingHandle } from './embeddings/embedding-client.js';
import type { EmbedderOptionsInput } from './embeddings/embedding-protocol.js';

export type { EngineHandle } from './worker/engine-handle.js';
export type {
  ChatTool,
  ChatTurn,
  EngineErrorReason,
  EngineLoadReport,
  EngineRequest,
  EngineSampling,
  EngineStats,
  FinishReason,
  FromEngine,
  OutputConstraint,
  TokenLogprob,
} from './engine/protocol.js';
export { ENGINE_DEFAULTS, type EngineOptionsInput } from './engine/engine-options.js';
export type { WeightFormat } from './graph/linear.js';
export { buildModelFolder, parameterCount } from './model/build-model.js';
export { PRESET_NAMES, type PresetName } from './model/presets.js';
export { loadModelFolder } from './model/model-folder.js';
export { DEFAULT_MODEL_ID, ensureDefaultModel } from './model/default-model.js';
export { inspectModelFolder, formatInspection } from './worker/inspect-model.js';
export { convertCommand, quantizeCommand } from './convert/convert-cli.js';
export { EmbeddingError, type EmbeddingHandle } from './embeddings/embedding-client.js';
export type { EmbedderOptionsInput, EmbeddingErrorReason, EmbeddingResult } from './embeddings/embedding-protocol.js';
export { writeTestEncoderFolder } from './embeddings/test-encoder.js';
export { writeHashedEncoderFolder } from './embeddings/hashed-encoder.js';

/** Starts an engine in its own worker thread (onnxruntime blocks the thread it runs on); `loaded` settles when ready. */
export function startEngine(options: EngineOptionsInput): EngineHandle {
  return new EngineClient(options);
}

/** Starts an embedding model (a feature-extraction ONNX export) in its own worker thread; `loaded` settles when ready. */
export function startEmbedder(options: EmbedderOptionsInput): EmbeddingHandle {
  return new EmbeddingClient(options);
}
