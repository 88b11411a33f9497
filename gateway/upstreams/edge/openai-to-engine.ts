/** Maps a validated OpenAI request body to an engine request: sampling defaults, vLLM extensions, clear 400s. */
import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import { chatRequestSchema, completionRequestSchema, type ChatRequest, type CompletionRequest } from '../../core/request-schemas.js';
import { validate } from '../../core/validate.js';
import type { UpstreamCall } from '../../core/upstream.js';
import type { ChatTurn, EngineRequest } from '../../../edge-runtime/index.js';
import { toolPlan, type ToolPlan } from './edge-tools.js';

/** vLLM's sampling extensions the edge honours; the OpenAI fields were validated by the gateway's own schemas. */
const edgeExtensions = z.looseObject({
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().positive().max(10).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  ignore_eos: z.boolean().nullish(),
  min_tokens: z.number().int().min(0).nullish(),
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

/** A chat message as the template sees it: text, plus the tool calls / tool result ids that ride along. */
function chatTurn(m: ChatRequest['messages'][number], i: number): ChatTurn {
  const turn: ChatTurn = { role: m.role === 'developer' ? 'system' : m.role, content: messageText(m.content, i) };
  const calls = (m as { tool_calls?: unknown }).tool_calls;
  if (Array.isArray(calls) && calls.length > 0) {
    turn.tool_calls = calls.map((c: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => ({
      id: String(c.id ?? ''),
      type: 'function' as const,
      function: { name: String(c.function?.name ?? ''), arguments: typeof c.function?.arguments === 'string' ? c.function.arguments : '{}' },
    }));
  }
  const callId = (m as { tool_call_id?: unknown }).tool_call_id;
  if (typeof callId === 'string') turn.tool_call_id = callId;
  if (m.name) turn.name = m.name;
  return turn;
}

export function toEngineRequest(id: string, call: UpstreamCall): EngineRequest {
  return toEngineCall(id, call).request;
}

/** The engine request and the plan for tools / structured output (how the output is read back). */
export function toEngineCall(id: string, call: UpstreamCall): { request: EngineRequest; plan: ToolPlan } {
  const b = call.body;
  // The same schemas as the gateway's routes (one set of limits), plus the edge's own extensions and capabilities.
  const ext = validate(edgeExtensions, b);
  let input: EngineRequest['input'];
  let logprobs: number | undefined;
  let common: CompletionRequest | ChatRequest;
  let maxTokens: number | null | undefined;
  let plan: ToolPlan = { tools: [], mode: 'free' };
  if (call.endpoint === 'chat.completions') {
    const chat = validate(chatRequestSchema, b);
    plan = toolPlan(b);
    input = { kind: 'chat', messages: chat.messages.map(chatTurn), ...(plan.tools.length > 0 ? { tools: plan.tools } : {}) };
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
  const request: EngineRequest = {
    id,
    input,
    ...(plan.constraint ? { constraint: plan.constraint } : {}),
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
    ...(ext.ignore_eos ? { ignoreEos: true } : {}),
    ...(ext.min_tokens ? { minTokens: ext.min_tokens } : {}),
  };
  return { request, plan };
}
