/** Puts reversibly masked values back into a whole (non-streamed) answer: text, message content and tool-call arguments. */
import type { JsonObject, JsonValue } from '../core/types.js';
import { isJsonObject } from '../core/validate.js';
import { unmask } from '../policy/detectors.js';

/** An original value as it must appear inside a JSON string literal (tool-call arguments are JSON text). */
export const inJsonString = (original: string): string => JSON.stringify(original).slice(1, -1);

/** The table for JSON-text fields: same placeholders, originals escaped for a JSON string. */
export function jsonEscapedTable(masks: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...masks].map(([tag, original]) => [tag, inJsonString(original)]));
}

function unmaskToolCalls(calls: JsonValue | undefined, escaped: ReadonlyMap<string, string>): JsonValue | undefined {
  if (!Array.isArray(calls)) return calls;
  return calls.map((call) => {
    if (!isJsonObject(call) || !isJsonObject(call['function'])) return call;
    const fn = call['function'];
    return typeof fn['arguments'] === 'string' ? { ...call, function: { ...fn, arguments: unmask(fn['arguments'], escaped) } } : call;
  });
}

function unmaskMessage(msg: JsonObject, masks: ReadonlyMap<string, string>, escaped: ReadonlyMap<string, string>): JsonObject {
  const out: JsonObject = { ...msg };
  if (typeof msg['content'] === 'string') out['content'] = unmask(msg['content'], masks);
  if (msg['tool_calls'] !== undefined) out['tool_calls'] = unmaskToolCalls(msg['tool_calls'], escaped) ?? null;
  const fc = msg['function_call'];
  if (isJsonObject(fc) && typeof fc['arguments'] === 'string') out['function_call'] = { ...fc, arguments: unmask(fc['arguments'], escaped) };
  return out;
}

/** A chat.completion or text_completion body with every placeholder of `masks` replaced by its original. */
export function unmaskAnswer(body: JsonObject, masks: ReadonlyMap<string, string>): JsonObject {
  if (masks.size === 0) return body;
  const escaped = jsonEscapedTable(masks);
  const choices = Array.isArray(body['choices']) ? body['choices'] : [];
  return {
    ...body,
    choices: choices.map((c) => {
      if (!isJsonObject(c)) return c;
      const msg = c['message'];
      if (isJsonObject(msg)) return { ...c, message: unmaskMessage(msg, masks, escaped) };
      if (typeof c['text'] === 'string') return { ...c, text: unmask(c['text'], masks) };
      return c;
    }),
  };
}
