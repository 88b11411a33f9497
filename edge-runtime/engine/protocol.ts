/** Messages between the gateway thread and the engine worker thread (structured-clone friendly, no tensors). */

export interface EngineSampling {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  repetitionPenalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  seed?: number;
  logitBias?: Record<string, number>;
}

/** What a request may ask the engine to enforce on its output (the sampler masks every token the grammar forbids). */
export type OutputConstraint =
  /** Any JSON object (OpenAI's json_object mode). */
  | { kind: 'json_object' }
  /** JSON valid against a JSON Schema (given as JSON text, structured-clone friendly). */
  | { kind: 'json_schema'; schema: string };

/** A chat turn as chat templates read it; tool calls and tool results ride along for templates that render them. */
export interface ChatTurn {
  role: string;
  content: string;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  name?: string;
}

/** A function tool as chat templates expect it (the OpenAI shape, as Hugging Face templates read `tools`). */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface EngineRequest {
  id: string;
  /** Chat messages (rendered with the model's chat template in the worker, tools included) or a raw prompt. */
  input: { kind: 'chat'; messages: ChatTurn[]; tools?: ChatTool[] } | { kind: 'text'; prompt: string } | { kind: 'tokens'; ids: number[] };
  /** Output the sampler must keep to (constrained decoding); absent = free text. */
  constraint?: OutputConstraint;
  sampling: EngineSampling;
  /** null: up to the context limit. */
  maxTokens: number | null;
  stop: string[];
  n: number;
  /** Top alternatives to report per token (0 = none); undefined = no logprobs. */
  logprobs?: number;
  /** Absolute deadline (ms since epoch): a request that cannot make it is ended with finish `deadline`. */
  deadline?: number;
  /** Keep generating past EOS up to maxTokens (fixed-length benchmarks, as vLLM's ignore_eos). */
  ignoreEos?: boolean;
  /** EOS is not sampled before this many tokens (vLLM's min_tokens). */
  minTokens?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top: Array<{ token: string; logprob: number; bytes: number[] }>;
}

export type ToEngine =
  { type: 'submit'; request: EngineRequest } | { type: 'cancel'; id: string } | { type: 'stats'; nonce: number } | { type: 'shutdown' };

export interface EngineStats {
  model: string;
  waiting: number;
  running: number;
  preempted: number;
  blocksTotal: number;
  blocksUsed: number;
  blocksFree: number;
  blocksCachedFree: number;
  kvUsage: number;
  prefixHitRate: number;
  /** Output tokens per second over the last few seconds. */
  tokensPerSecond: number;
  /** Estimated wait before a new request gets its first token, in ms. */
  predictedQueueWaitMs: number;
  totalGenerated: number;
  totalPrompt: number;
  kvWaste: number;
  /** How the model was loaded (variant, execution path and why); constant after load. */
  load?: EngineLoadReport;
}

/** What the engine chose at load, for the log line, /health, /metrics and `edge inspect`. */
export interface EngineLoadReport {
  variant: string;
  file: string;
  /** Why this weight file (e.g. 'variant auto: model.onnx (fp32), the first present of ...'). */
  variantReason: string;
  /** 'paged' | 'assembled' | 'assembled-grouped' (engine/model-runner.ts). */
  path: string;
  /** Why this execution path, including the load-time proof's result and rejected faster paths. */
  pathReason: string;
  /** Max |logits difference| of the load-time proof against the unmodified graph (absent if not proven). */
  proofMaxDiff?: number;
  fp16Upcast: boolean;
  externalData: string[];
  /** Rows depend on their batch neighbours (dynamic activation quantization). */
  dynamicQuant: boolean;
  loadMs: number;
}

export type FinishReason = 'stop' | 'length' | 'deadline' | 'cancelled';

/**
 * Why the engine refused or dropped a request. The engine speaks reasons; whoever serves it over a protocol maps them
 * (the gateway: invalid_* and context_length -> 400, overloaded and unavailable -> 503).
 */
export type EngineErrorReason = 'invalid_prompt' | 'invalid_value' | 'context_length' | 'overloaded' | 'unavailable';

export type FromEngine =
  | { type: 'ready'; model: string; maxContext: number; vocab: number; load?: EngineLoadReport }
  | { type: 'fatal'; message: string }
  | { type: 'accepted'; id: string; promptTokens: number }
  | { type: 'delta'; id: string; index: number; text: string; tokens: number; logprobs?: TokenLogprob[] }
  | { type: 'finish'; id: string; index: number; reason: FinishReason; text: string; logprobs?: TokenLogprob[] }
  | {
      type: 'done';
      id: string;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens: number } };
    }
  | { type: 'error'; id: string; reason: EngineErrorReason; message: string; param?: string }
  | { type: 'stats'; nonce: number; stats: EngineStats };
