/**
 * One typed, validated request object, built once per request from the body bytes and passed to routing, limits,
 * budgets, the cache and the upstreams. `body` is the validated JSON (unknown fields kept, as OpenAI-compatible
 * servers expect them forwarded); the typed fields are read from it once here.
 */
import type { z } from 'zod';
import { errors } from './errors.js';
import { chatRequestSchema, completionRequestSchema, embeddingRequestSchema } from './request-schemas.js';
import { estimateTokens, type TokenEstimate } from './token-estimate.js';
import type { Endpoint, JsonObject } from './types.js';
import { isJsonObject, validate } from './validate.js';

export interface InferenceRequest {
  readonly endpoint: Endpoint;
  /** Client-facing model name. */
  readonly model: string;
  readonly stream: boolean;
  /** The client asked for a usage chunk at the end of its stream. */
  readonly wantsStreamUsage: boolean;
  readonly temperature: number | undefined;
  /** String metadata as OpenAI defines it (tags ride here too). */
  readonly metadata: Readonly<Record<string, string>> | undefined;
  readonly tokens: TokenEstimate;
  /** Size of the body as received, in bytes. */
  readonly bytes: number;
  /** The validated body; unknown fields kept. */
  readonly body: JsonObject;
}

const SCHEMAS: Record<Endpoint, z.ZodType<{ model: string }>> = {
  'chat.completions': chatRequestSchema,
  completions: completionRequestSchema,
  embeddings: embeddingRequestSchema,
};

export interface RequestLimits {
  max_messages: number;
}

/** Validates a parsed body for an endpoint and builds the request object (400 naming the field on failure). */
export function parseInferenceRequest(endpoint: Endpoint, body: JsonObject, bytes: number, limits?: RequestLimits): InferenceRequest {
  validate(SCHEMAS[endpoint], body);
  // The schemas have checked every field read below; reading the JSON keeps unknown fields and costs no copy.
  const messages = body['messages'];
  if (limits && Array.isArray(messages) && messages.length > limits.max_messages) {
    throw errors.invalid(`Too many messages: ${messages.length} (at most ${limits.max_messages}).`, 'messages', 'too_many_messages');
  }
  const num = (k: string) => (typeof body[k] === 'number' ? body[k] : undefined);
  const so = body['stream_options'];
  const md = body['metadata'];
  const stream = endpoint !== 'embeddings' && body['stream'] === true;
  return {
    endpoint,
    model: body['model'] as string,
    stream,
    wantsStreamUsage: stream && isJsonObject(so) && so['include_usage'] === true,
    temperature: num('temperature'),
    metadata: isJsonObject(md) ? (md as Record<string, string>) : undefined,
    tokens: estimateTokens(bytes, num('max_completion_tokens') ?? num('max_tokens')),
    bytes,
    body,
  };
}

/** For callers holding a body but no bytes (the policies CLI, tests): the size is that of its JSON text. */
export function inferenceRequestFromBody(body: JsonObject, endpoint?: Endpoint): InferenceRequest {
  const ep = endpoint ?? (Array.isArray(body['messages']) ? 'chat.completions' : 'input' in body ? 'embeddings' : 'completions');
  return parseInferenceRequest(ep, body, new TextEncoder().encode(JSON.stringify(body)).byteLength);
}
