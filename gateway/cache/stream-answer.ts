/**
 * Converts between streamed and whole answers: assembles SSE chunks into the JSON a non-streaming call would have
 * returned (to cache a streamed response), and replays a cached JSON answer as SSE chunks the openai SDK accepts.
 */
import type { JsonObject, JsonValue } from '../core/types.js';

type ToolCallParts = { id: string; name: string; arguments: string };
type Choice = { index: number; text: string; finish_reason: JsonValue; role?: string; tools?: Map<number, ToolCallParts> };

/** A chunk's text around its one content string: chunks that differ only in that string need no JSON.parse. */
interface ContentTemplate {
  prefix: string;
  suffix: string;
  index: number;
}
/** Templates learned per stream at most: a provider whose chunks vary elsewhere (e.g. padding fields) gets full parses. */
const MAX_TEMPLATE_LEARNS = 2;
/** Characters a JSON string literal's body may not contain raw (then the literal is parsed for real). */
const NEEDS_PARSE = /["\\\u0000-\u001f]/;

export class StreamAssembler {
  private readonly choices = new Map<number, Choice>();
  private meta: JsonObject = {};
  private usage: JsonValue = null;
  private template: ContentTemplate | undefined;
  private learns = 0;

  push(data: string): void {
    // Most chunks are a content delta that differs from the previous one only in its text: parsing each was ~1 µs
    // per chunk, the assembler's whole cost.
    if (this.template && this.pushByTemplate(this.template, data)) return;
    let chunk: { id?: string; model?: string; created?: number; object?: string; choices?: Array<Record<string, unknown>>; usage?: JsonValue };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      return;
    }
    if (this.learns < MAX_TEMPLATE_LEARNS) this.learn(data, chunk);
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

  /** Exactly what JSON.parse + push would do for a chunk that is the template with another content string. */
  private pushByTemplate(t: ContentTemplate, data: string): boolean {
    const end = data.length - t.suffix.length;
    // slice + === compares flat strings with memcmp; startsWith measured 5x slower here.
    if (end - t.prefix.length < 2 || data.slice(0, t.prefix.length) !== t.prefix || data.slice(end) !== t.suffix) return false;
    if (data.charCodeAt(t.prefix.length) !== 34 || data.charCodeAt(end - 1) !== 34) return false;
    let text = data.slice(t.prefix.length + 1, end - 1);
    if (NEEDS_PARSE.test(text)) {
      try {
        const v: unknown = JSON.parse(data.slice(t.prefix.length, end));
        if (typeof v !== 'string') return false;
        text = v;
      } catch {
        return false;
      }
    }
    const cur = this.choices.get(t.index);
    if (!cur) return false;
    cur.text += text;
    return true;
  }

  /**
   * Learns a template from a chunk whose only payload is one choice's `delta.content` string. The slot is confirmed by
   * parsing the template with a probe string in it, so a template can only ever stand for that one field.
   */
  private learn(data: string, chunk: { choices?: Array<Record<string, unknown>>; usage?: JsonValue }): void {
    const c = chunk.choices?.length === 1 ? chunk.choices[0] : undefined;
    const delta = c?.['delta'] as Record<string, unknown> | undefined;
    if (!c || chunk.usage || c['finish_reason'] || !delta || typeof delta['content'] !== 'string') return;
    if (Object.keys(delta).length !== 1 || typeof c['index'] !== 'number') return;
    const at = data.lastIndexOf('"content":');
    if (at < 0) return;
    const start = at + '"content":'.length;
    const end = stringLiteralEnd(data, start);
    if (end < 0) return;
    this.learns++;
    const t: ContentTemplate = { prefix: data.slice(0, start), suffix: data.slice(end), index: c['index'] };
    const probe = '\u0001probe';
    try {
      const parsed = JSON.parse(t.prefix + JSON.stringify(probe) + t.suffix) as {
        choices?: Array<{ index?: unknown; delta?: { content?: unknown } }>;
      };
      if (parsed.choices?.length === 1 && parsed.choices[0]?.index === t.index && parsed.choices[0]?.delta?.content === probe) this.template = t;
    } catch {
      // not a template
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

/** Index just past the JSON string literal starting at `start` (its opening quote), or -1. */
function stringLiteralEnd(s: string, start: number): number {
  if (s.charCodeAt(start) !== 34) return -1;
  for (let i = start + 1; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 92) i++;
    else if (ch === 34) return i + 1;
  }
  return -1;
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
