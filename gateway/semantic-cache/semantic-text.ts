/**
 * What a semantic lookup compares: the conversation's user-facing text is embedded; everything else that changes the
 * answer (system prompt, sampling, tools, response format, the model) must match exactly and goes into the namespace.
 */
import type { JsonObject, JsonValue } from '../core/types.js';
import { isJsonObject } from '../core/validate.js';
import { canonical, IGNORED } from '../cache/cache-key.js';

/** Fields that never change the answer (as the exact cache key ignores them). */

export interface SemanticParts {
  /** Embedded: non-system turns as `role: text`, or the completion prompt. */
  text: string;
  /** Matched exactly: the rest of the body (system turns included), canonical JSON. */
  exact: string;
}

function contentText(content: JsonValue | undefined): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content == null ? '' : undefined;
  const parts: string[] = [];
  for (const p of content) {
    // Only text parts are embedded; an image or audio part makes the request not comparable by text.
    if (!isJsonObject(p) || p['type'] !== 'text' || typeof p['text'] !== 'string') return undefined;
    parts.push(p['text']);
  }
  return parts.join('\n');
}

/** Undefined when the request has no comparable text (non-text parts, token-id prompts, tool-call turns). */
export function semanticParts(endpoint: string, body: JsonObject): SemanticParts | undefined {
  const rest: JsonObject = {};
  for (const [k, v] of Object.entries(body)) if (!IGNORED.has(k) && k !== 'messages' && k !== 'prompt') rest[k] = v;
  if (endpoint === 'completions') {
    const prompt = body['prompt'];
    if (typeof prompt !== 'string' || prompt.length === 0) return undefined;
    return { text: prompt, exact: JSON.stringify([endpoint, canonical(rest)]) };
  }
  if (endpoint !== 'chat.completions' || !Array.isArray(body['messages'])) return undefined;
  const system: JsonValue[] = [];
  const turns: string[] = [];
  for (const m of body['messages']) {
    if (!isJsonObject(m) || typeof m['role'] !== 'string') return undefined;
    if (m['tool_calls'] !== undefined || m['role'] === 'tool' || m['role'] === 'function') return undefined;
    const text = contentText(m['content']);
    if (text === undefined) return undefined;
    if (m['role'] === 'system' || m['role'] === 'developer') system.push(canonical(m));
    else turns.push(`${m['role']}: ${text}`);
  }
  if (turns.length === 0) return undefined;
  // One turn is embedded as the text itself; a conversation with its roles.
  return {
    text: turns.length === 1 && body['messages'].length - system.length === 1 ? turns[0]!.slice(turns[0]!.indexOf(': ') + 2) : turns.join('\n'),
    exact: JSON.stringify([endpoint, system, canonical(rest)]),
  };
}
