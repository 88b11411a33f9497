/**
 * Converts between streamed and whole answers: assembles SSE chunks into the JSON a non-streaming call would have
 * returned (to cache a streamed response), and replays a cached JSON answer as SSE chunks the openai SDK accepts.
 */
import type { JsonObject, JsonValue } from '../core/types.js';

type ToolCallParts = { id: string; name: string; arguments: string };
type Choice = { index: number; text: string; finish_reason: JsonValue; role?: string; tools?: Map<number, ToolCallParts> };

export class StreamAssembler {
  private readonly choices = new Map<number, Choice>();
  private meta: JsonObject = {};
  private usage: JsonValue = null;

  push(data: string): void {
    let chunk: { id?: string; model?: string; created?: number; object?: string; choices?: Array<Record<string, unknown>>; usage?: JsonValue };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      return;
    }
    if (chunk.id) this.meta = { id: chunk.id, model: chunk.model ?? '', created: chunk.created ?? 0, object: chunk.object ?? '' };
    if (chunk.usage) this.usage = chunk.usage;
    for (const c of chunk.choices ?? []) {
      const index = Number(c['index'] ?? 0);
      const cur = this.choices.get(index) ?? { index, text: '', finish_reason: null };
      const delta = c['delta'] as
        | { content?: string; role?: string; tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }> }
        | undefined;
      cur.text += delta?.content ?? (typeof c['text'] === 'string' ? c['text'] : '');
      // Tool calls arrive in pieces keyed by their index: the id and name first, the arguments in fragments.
      for (const t of delta?.tool_calls ?? []) {
        const tools = (cur.tools ??= new Map());
        const part = tools.get(t.index ?? 0) ?? { id: '', name: '', arguments: '' };
        if (t.id) part.id = t.id;
        if (t.function?.name) part.name = t.function.name;
        part.arguments += t.function?.arguments ?? '';
        tools.set(t.index ?? 0, part);
      }
      if (delta?.role) cur.role = delta.role;
      if (c['finish_reason']) cur.finish_reason = c['finish_reason'] as JsonValue;
      this.choices.set(index, cur);
    }
  }

  /** The whole answer, or undefined if the stream did not finish every choice. */
  result(): JsonObject | undefined {
    const list = [...this.choices.values()].sort((a, b) => a.index - b.index);
    if (list.length === 0 || list.some((c) => c.finish_reason === null)) return undefined;
    const chat = String(this.meta['object']).startsWith('chat');
    return {
      id: this.meta['id'] ?? '',
      object: chat ? 'chat.completion' : 'text_completion',
      created: this.meta['created'] ?? 0,
      model: this.meta['model'] ?? '',
      choices: list.map((c): JsonObject =>
        chat
          ? { index: c.index, message: assembledMessage(c), logprobs: null, finish_reason: c.finish_reason }
          : { index: c.index, text: c.text, logprobs: null, finish_reason: c.finish_reason },
      ),
      usage: this.usage,
    };
  }
}

function assembledMessage(c: Choice): JsonObject {
  if (!c.tools || c.tools.size === 0) return { role: 'assistant', content: c.text };
  const calls = [...c.tools.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, t]) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } }));
  return { role: 'assistant', content: c.text.length > 0 ? c.text : null, tool_calls: calls };
}

/** Replays a cached chat or text completion as stream chunks (role, content, finish, then usage). */
export function* replayAsChunks(answer: JsonObject): Generator<string> {
  const chat = answer['object'] === 'chat.completion';
  const base = { id: answer['id'], object: chat ? 'chat.completion.chunk' : 'text_completion', created: answer['created'], model: answer['model'] };
  const choices = (answer['choices'] as Array<Record<string, JsonValue>>) ?? [];
  for (const c of choices) {
    const index = c['index'];
    if (chat) {
      const msg = c['message'] as { content?: string | null; tool_calls?: JsonValue[] } | null;
      yield JSON.stringify({
        ...base,
        choices: [{ index, delta: { role: 'assistant', content: msg?.content ?? '' }, logprobs: null, finish_reason: null }],
      });
      if (Array.isArray(msg?.tool_calls) && msg.tool_calls.length > 0) {
        const tool_calls = msg.tool_calls.map((t, i) => ({ index: i, ...(t as JsonObject) }));
        yield JSON.stringify({ ...base, choices: [{ index, delta: { tool_calls }, logprobs: null, finish_reason: null }] });
      }
      yield JSON.stringify({ ...base, choices: [{ index, delta: {}, logprobs: null, finish_reason: c['finish_reason'] }] });
    } else {
      yield JSON.stringify({ ...base, choices: [{ index, text: c['text'], logprobs: null, finish_reason: null }] });
      yield JSON.stringify({ ...base, choices: [{ index, text: '', logprobs: null, finish_reason: c['finish_reason'] }] });
    }
  }
  if (answer['usage']) yield JSON.stringify({ ...base, choices: [], usage: answer['usage'] });
}
