/** Chat completions answers -> Anthropic Messages: the message JSON, the SSE event sequence, and error bodies. */
import type { GatewayError } from '../core/errors.js';
import type { RequestContext } from '../core/request-context.js';
import { jsonResponse } from '../core/respond.js';
import type { JsonObject, JsonValue, Usage } from '../core/types.js';
import { newId, readChatAnswer } from './chat-answer.js';
import { chatPieces } from './chat-chunks.js';
import { framedSseResponse, sseFrame } from './framed-sse.js';
import type { Front } from './front.js';

const STOP_REASONS: Record<string, string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' };
const stopReason = (finish: string) => STOP_REASONS[finish] ?? 'end_turn';

/** Anthropic's error type for a status (the SDK picks its error class from the status; the type names it in the body). */
function anthropicErrorType(status: number): string {
  if (status === 400 || status === 405 || status === 415) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  return 'api_error';
}

/** The gateway's error in Anthropic's shape; the gateway's code rides along so clients can still branch on it. */
export function anthropicErrorBody(e: GatewayError): JsonObject {
  return { type: 'error', error: { type: anthropicErrorType(e.status), message: e.message, code: e.code, param: e.param } };
}

export function anthropicErrorResponse(e: GatewayError, headers: Record<string, string> | undefined): Response {
  return new Response(JSON.stringify(anthropicErrorBody(e)), {
    status: e.status,
    headers: { 'content-type': 'application/json', ...e.headers, ...headers },
  });
}

function usageJson(u: Usage | undefined): JsonObject {
  return {
    input_tokens: u?.prompt_tokens ?? 0,
    output_tokens: u?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

function parseInput(args: string): JsonValue {
  try {
    const v = JSON.parse(args) as JsonValue;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

export function messagesFront(model: string): Front {
  const id = newId('msg_');
  return {
    name: 'messages',
    async json(body, ctx) {
      const a = readChatAnswer(body);
      const content: JsonValue[] = [];
      if (a.text.length > 0) content.push({ type: 'text', text: a.text });
      for (const c of a.toolCalls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: parseInput(c.arguments) });
      const message: JsonObject = {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: a.toolCalls.length > 0 ? 'tool_use' : stopReason(a.finishReason),
        stop_sequence: null,
        usage: usageJson(a.usage),
      };
      return jsonResponse(message, 200, ctx.headers);
    },
    stream(events, ctx, opts) {
      return framedSseResponse(messageEvents(id, model, events, ctx), ctx, opts, (e) => sseFrame('error', anthropicErrorBody(e)));
    },
  };
}

async function* messageEvents(id: string, model: string, events: AsyncIterable<string>, ctx: RequestContext): AsyncGenerator<string> {
  yield sseFrame('message_start', {
    type: 'message_start',
    message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usageJson(undefined) },
  });
  yield sseFrame('ping', { type: 'ping' });
  let block = -1;
  let open: 'text' | number | undefined; // the open block: text, or the chat index of a tool call
  let finish = 'stop';
  let sawTool = false;
  const close = function* (): Generator<string> {
    if (open === undefined) return;
    open = undefined;
    yield sseFrame('content_block_stop', { type: 'content_block_stop', index: block });
  };
  for await (const p of chatPieces(events, ctx)) {
    if (p.kind === 'text') {
      if (open !== 'text') {
        yield* close();
        open = 'text';
        block++;
        yield sseFrame('content_block_start', { type: 'content_block_start', index: block, content_block: { type: 'text', text: '' } });
      }
      yield sseFrame('content_block_delta', { type: 'content_block_delta', index: block, delta: { type: 'text_delta', text: p.text } });
    } else if (p.kind === 'tool') {
      if (open !== p.index) {
        yield* close();
        open = p.index;
        sawTool = true;
        block++;
        yield sseFrame('content_block_start', {
          type: 'content_block_start',
          index: block,
          content_block: { type: 'tool_use', id: p.id ?? newId('toolu_'), name: p.name ?? '', input: {} },
        });
      }
      if (p.args)
        yield sseFrame('content_block_delta', {
          type: 'content_block_delta',
          index: block,
          delta: { type: 'input_json_delta', partial_json: p.args },
        });
    } else finish = p.reason;
  }
  yield* close();
  yield sseFrame('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: sawTool ? 'tool_use' : stopReason(finish), stop_sequence: null },
    usage: usageJson(ctx.usage),
  });
  yield sseFrame('message_stop', { type: 'message_stop' });
}
