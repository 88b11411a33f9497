/** Chat completions answers -> Responses API objects: the JSON response, and the Responses event stream. */
import type { RequestContext } from '../core/request-context.js';
import { jsonResponse } from '../core/respond.js';
import type { JsonObject, JsonValue, Usage } from '../core/types.js';
import { readChatAnswer, newId, type ChatToolCall } from './chat-answer.js';
import { chatPieces } from './chat-chunks.js';
import { framedSseResponse, sseFrame } from './framed-sse.js';
import type { Front } from './front.js';
import type { ResponsesRequest } from './responses-request.js';

export interface ResponsesFrontOptions {
  request: ResponsesRequest;
  /** Called with the finished response and the assistant's chat message, to store them (previous_response_id). */
  onFinished?: (response: JsonObject, assistant: JsonObject) => Promise<void>;
}

function usageJson(u: Usage | undefined): JsonObject {
  const input = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u?.total_tokens ?? input + output,
  };
}

function messageItem(id: string, text: string, status: 'in_progress' | 'completed'): JsonObject {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: status === 'completed' ? [{ type: 'output_text', text, annotations: [], logprobs: [] }] : [],
  };
}

function callItem(id: string, call: ChatToolCall, status: 'in_progress' | 'completed'): JsonObject {
  return { type: 'function_call', id, call_id: call.id, name: call.name, arguments: call.arguments, status };
}

/** The response object around `output`, echoing the request's settings as the Responses API does. */
function responseObject(
  id: string,
  createdAt: number,
  model: string,
  r: ResponsesRequest,
  status: 'in_progress' | 'completed' | 'incomplete',
  output: JsonObject[],
  usage: Usage | undefined,
): JsonObject {
  const tools: JsonValue = (r.tools ?? []).map((t) => ({ ...t, strict: t.strict ?? false }) as JsonObject);
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: r.previous_response_id ?? null,
    temperature: r.temperature ?? 1,
    top_p: r.top_p ?? 1,
    text: (r.text as JsonObject | undefined) ?? { format: { type: 'text' } },
    tool_choice: (r.tool_choice as JsonValue | undefined) ?? 'auto',
    tools,
    store: r.store ?? true,
    metadata: (r.metadata as JsonObject | null | undefined) ?? {},
    usage: status === 'in_progress' ? null : usageJson(usage),
  };
}

function assistantMessage(text: string, calls: ChatToolCall[]): JsonObject {
  const m: JsonObject = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
  if (calls.length > 0) m['tool_calls'] = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
  return m;
}

export function responsesFront(o: ResponsesFrontOptions): Front {
  const id = newId('resp_');
  const createdAt = Math.floor(Date.now() / 1000);
  return {
    name: 'responses',
    async json(body, ctx) {
      const a = readChatAnswer(body);
      const output: JsonObject[] = [];
      if (a.text.length > 0 || a.toolCalls.length === 0) output.push(messageItem(newId('msg_'), a.text, 'completed'));
      for (const c of a.toolCalls) output.push(callItem(newId('fc_'), c, 'completed'));
      const status = a.finishReason === 'length' ? 'incomplete' : 'completed';
      const response = responseObject(id, createdAt, o.request.model, o.request, status, output, a.usage);
      await o.onFinished?.(response, assistantMessage(a.text, a.toolCalls));
      return jsonResponse(response, 200, ctx.headers);
    },
    stream(events, ctx, opts) {
      return framedSseResponse(responseEvents(id, createdAt, o, events, ctx), ctx, opts, (e) =>
        sseFrame('error', { type: 'error', code: e.code, message: e.message, param: e.param, sequence_number: 0, error: e.toJSON().error }),
      );
    },
  };
}

async function* responseEvents(
  id: string,
  createdAt: number,
  o: ResponsesFrontOptions,
  events: AsyncIterable<string>,
  ctx: RequestContext,
): AsyncGenerator<string> {
  let seq = 0;
  const ev = (type: string, data: JsonObject) => sseFrame(type, { type, sequence_number: seq++, ...data });
  const r = o.request;
  const output: JsonObject[] = [];
  yield ev('response.created', { response: responseObject(id, createdAt, r.model, r, 'in_progress', [], undefined) });
  yield ev('response.in_progress', { response: responseObject(id, createdAt, r.model, r, 'in_progress', [], undefined) });

  let text: { itemId: string; index: number; text: string } | undefined;
  let allText = '';
  const calls = new Map<number, { itemId: string; index: number; call: ChatToolCall }>();
  let finish = 'stop';

  function* closeText(): Generator<string> {
    if (!text) return;
    const t = text;
    text = undefined;
    const part = { type: 'output_text', text: t.text, annotations: [], logprobs: [] };
    yield ev('response.output_text.done', { item_id: t.itemId, output_index: t.index, content_index: 0, text: t.text, logprobs: [] });
    yield ev('response.content_part.done', { item_id: t.itemId, output_index: t.index, content_index: 0, part });
    const item = messageItem(t.itemId, t.text, 'completed');
    output[t.index] = item;
    yield ev('response.output_item.done', { output_index: t.index, item });
  }

  for await (const p of chatPieces(events, ctx)) {
    if (p.kind === 'text') {
      if (!text) {
        text = { itemId: newId('msg_'), index: output.length, text: '' };
        output.push(messageItem(text.itemId, '', 'in_progress'));
        yield ev('response.output_item.added', { output_index: text.index, item: messageItem(text.itemId, '', 'in_progress') });
        yield ev('response.content_part.added', {
          item_id: text.itemId,
          output_index: text.index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
        });
      }
      text.text += p.text;
      allText += p.text;
      yield ev('response.output_text.delta', { item_id: text.itemId, output_index: text.index, content_index: 0, delta: p.text, logprobs: [] });
    } else if (p.kind === 'tool') {
      yield* closeText();
      let c = calls.get(p.index);
      if (!c) {
        c = { itemId: newId('fc_'), index: output.length, call: { id: p.id ?? newId('call_'), name: p.name ?? '', arguments: '' } };
        calls.set(p.index, c);
        output.push(callItem(c.itemId, c.call, 'in_progress'));
        yield ev('response.output_item.added', { output_index: c.index, item: callItem(c.itemId, c.call, 'in_progress') });
      }
      if (p.args) {
        c.call.arguments += p.args;
        yield ev('response.function_call_arguments.delta', { item_id: c.itemId, output_index: c.index, delta: p.args });
      }
    } else {
      finish = p.reason;
    }
  }
  yield* closeText();
  for (const c of calls.values()) {
    yield ev('response.function_call_arguments.done', { item_id: c.itemId, output_index: c.index, name: c.call.name, arguments: c.call.arguments });
    const item = callItem(c.itemId, c.call, 'completed');
    output[c.index] = item;
    yield ev('response.output_item.done', { output_index: c.index, item });
  }
  const status = finish === 'length' ? 'incomplete' : 'completed';
  const response = responseObject(id, createdAt, r.model, r, status, output, ctx.usage);
  await o.onFinished?.(
    response,
    assistantMessage(
      allText,
      [...calls.values()].map((c) => c.call),
    ),
  );
  yield ev(status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
}
