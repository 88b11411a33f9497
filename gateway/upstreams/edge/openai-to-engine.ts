/** Maps a validated OpenAI request body to an engine request: sampling defaults, vLLM extensions, clear 400s. */
import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import { chatRequestSchema, completionRequestSchema, type ChatRequest, type CompletionRequest } from '../../core/request-schemas.js';
import { validate } from '../../core/validate.js';
import type { UpstreamCall } from '../../core/upstream.js';
import type { EngineRequest } from '../../../edge-runtime/index.js';

/** vLLM's sampling extensions the edge honours; the OpenAI fields were validated by the gateway's own schemas. */
const edgeExtensions = z.looseObject({
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().positive().max(10).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
});

/** Choices per request the edge batches at most (each choice is a sequence in the running batch). */
const MAX_EDGE_CHOICES = 16;

function badParam(message: string, param: string): GatewayError {
  return new GatewayError(message, { status: 400, code: 'unsupported_parameter', param });
}

function messageText(content: unknown, i: number): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown, j) => {
        const p = part as { type?: unknown; text?: unknown };
        if (p?.type === 'text' && typeof p.text === 'string') return p.text;
        throw badParam(
          `The edge model accepts text content only; messages[${i}].content[${j}] is '${String(p?.type)}'.`,
          `messages[${i}].content[${j}].type`,
        );
      })
      .join('');
  }
  throw badParam('Message content must be a string or an array of text parts.', `messages[${i}].content`);
}

export function toEngineRequest(id: string, call: UpstreamCall): EngineRequest {
  const b = call.body;
  // The same schemas as the gateway's routes (one set of limits), plus the edge's own extensions and capabilities.
  const ext = validate(edgeExtensions, b);
  let input: EngineRequest['input'];
  let logprobs: number | undefined;
  let common: CompletionRequest | ChatRequest;
  let maxTokens: number | null | undefined;
  if (call.endpoint === 'chat.completions') {
    const chat = validate(chatRequestSchema, b);
    if (Array.isArray(chat['tools']) && chat['tools'].length > 0) throw badParam('The edge model does not support tool calls.', 'tools');
    input = {
      kind: 'chat',
      messages: chat.messages.map((m, i) => ({ role: m.role === 'developer' ? 'system' : m.role, content: messageText(m.content, i) })),
    };
    if (chat.logprobs === true) logprobs = chat.top_logprobs ?? 0;
    maxTokens = chat.max_completion_tokens ?? chat.max_tokens;
    common = chat;
  } else {
    const cmpl = validate(completionRequestSchema, b);
    const prompt = cmpl.prompt;
    if (typeof prompt === 'string') input = { kind: 'text', prompt };
    else if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') input = { kind: 'text', prompt: prompt[0] };
    else if (Array.isArray(prompt) && prompt.every((t) => typeof t === 'number')) input = { kind: 'tokens', ids: prompt };
    else throw badParam('The edge model takes one prompt per request (a string or a list of token ids).', 'prompt');
    if (typeof cmpl.logprobs === 'number') logprobs = cmpl.logprobs;
    if (cmpl.echo === true) throw badParam('echo is not supported by the edge model.', 'echo');
    maxTokens = cmpl.max_tokens;
    common = cmpl;
  }
  const n = common.n ?? 1;
  if (n > MAX_EDGE_CHOICES) throw badParam(`The edge model serves at most ${MAX_EDGE_CHOICES} choices per request (n).`, 'n');
  const stop = common.stop == null ? [] : typeof common.stop === 'string' ? [common.stop] : common.stop;
  return {
    id,
    input,
    sampling: {
      temperature: common.temperature ?? 1,
      topP: common.top_p ?? 1,
      topK: ext.top_k ?? -1,
      minP: ext.min_p ?? 0,
      repetitionPenalty: ext.repetition_penalty ?? 1,
      frequencyPenalty: common.frequency_penalty ?? 0,
      presencePenalty: common.presence_penalty ?? 0,
      seed: common.seed ?? undefined,
      logitBias: ext.logit_bias ?? undefined,
    },
    maxTokens: maxTokens ?? null,
    stop: stop.filter((x) => x.length > 0),
    n,
    logprobs,
    deadline: call.deadline,
  };
}
