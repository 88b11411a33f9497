/** Maps a validated OpenAI request body to an engine request: sampling defaults, vLLM extensions, clear 400s. */
import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import type { UpstreamCall } from '../../core/upstream.js';
import type { EngineRequest } from '../../../edge-runtime/index.js';

const num = (min: number, max: number) => z.number().min(min).max(max).nullish();

/** The fields the edge engine reads; everything else is ignored like vLLM ignores what it does not implement. */
const edgeParams = z.looseObject({
  temperature: num(0, 2),
  top_p: num(0, 1),
  top_k: z.number().int().min(-1).nullish(),
  min_p: num(0, 1),
  repetition_penalty: z.number().positive().max(10).nullish(),
  frequency_penalty: num(-2, 2),
  presence_penalty: num(-2, 2),
  seed: z.number().int().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
});

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
  const parsed = edgeParams.safeParse(b);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GatewayError(`Invalid value for '${issue.path.join('.')}': ${issue.message}`, {
      status: 400,
      code: 'invalid_value',
      param: issue.path.join('.'),
    });
  }
  const p = parsed.data;
  if (Array.isArray(b['tools']) && b['tools'].length > 0) throw badParam('The edge model does not support tool calls.', 'tools');
  let input: EngineRequest['input'];
  let logprobs: number | undefined;
  if (call.endpoint === 'chat.completions') {
    const msgs = b['messages'] as Array<{ role: string; content?: unknown }>;
    input = {
      kind: 'chat',
      messages: msgs.map((m, i) => ({ role: m.role === 'developer' ? 'system' : m.role, content: messageText(m.content, i) })),
    };
    if (b['logprobs'] === true) logprobs = typeof b['top_logprobs'] === 'number' ? b['top_logprobs'] : 0;
  } else {
    const prompt = b['prompt'];
    if (typeof prompt === 'string') input = { kind: 'text', prompt };
    else if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') input = { kind: 'text', prompt: prompt[0] };
    else if (Array.isArray(prompt) && prompt.every((t) => typeof t === 'number')) input = { kind: 'tokens', ids: prompt as number[] };
    else throw badParam('The edge model takes one prompt per request (a string or a list of token ids).', 'prompt');
    if (typeof b['logprobs'] === 'number') logprobs = b['logprobs'];
    if (b['echo'] === true) throw badParam('echo is not supported by the edge model.', 'echo');
  }
  const stop = p.stop == null ? [] : typeof p.stop === 'string' ? [p.stop] : p.stop;
  return {
    id,
    input,
    sampling: {
      temperature: p.temperature ?? 1,
      topP: p.top_p ?? 1,
      topK: p.top_k ?? -1,
      minP: p.min_p ?? 0,
      repetitionPenalty: p.repetition_penalty ?? 1,
      frequencyPenalty: p.frequency_penalty ?? 0,
      presencePenalty: p.presence_penalty ?? 0,
      seed: p.seed ?? undefined,
      logitBias: p.logit_bias ?? undefined,
    },
    maxTokens: p.max_completion_tokens ?? p.max_tokens ?? null,
    stop: stop.filter((s) => s.length > 0),
    n: p.n ?? 1,
    logprobs,
    deadline: call.deadline,
  };
}
