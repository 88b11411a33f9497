/** Reads a chat.completion body (choice 0) into what the other fronts need: text, tool calls, finish reason, usage. */
import type { JsonObject } from '../core/types.js';
import { usageOf } from '../core/upstream.js';
import { isJsonObject } from '../core/validate.js';
import type { Usage } from '../core/types.js';

export interface ChatToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatAnswer {
  id: string;
  model: string;
  text: string;
  toolCalls: ChatToolCall[];
  finishReason: string;
  usage: Usage | undefined;
}

export function readChatAnswer(body: JsonObject): ChatAnswer {
  const choices = Array.isArray(body['choices']) ? body['choices'] : [];
  const first = choices.find((c) => isJsonObject(c) && (c['index'] ?? 0) === 0);
  const choice = isJsonObject(first) ? first : {};
  const msg = isJsonObject(choice['message']) ? choice['message'] : {};
  const calls = Array.isArray(msg['tool_calls']) ? msg['tool_calls'] : [];
  const toolCalls: ChatToolCall[] = [];
  for (const c of calls) {
    if (!isJsonObject(c) || !isJsonObject(c['function'])) continue;
    const f = c['function'];
    toolCalls.push({
      id: String(c['id'] ?? ''),
      name: String(f['name'] ?? ''),
      arguments: typeof f['arguments'] === 'string' ? f['arguments'] : '{}',
    });
  }
  return {
    id: String(body['id'] ?? ''),
    model: String(body['model'] ?? ''),
    text: typeof msg['content'] === 'string' ? msg['content'] : '',
    toolCalls,
    finishReason: typeof choice['finish_reason'] === 'string' ? choice['finish_reason'] : 'stop',
    usage: usageOf(body),
  };
}

/** A short random id with a protocol prefix (resp_, msg_, fc_, toolu_...). */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
