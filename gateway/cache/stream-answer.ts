/**
 * Converts between streamed and whole answers: assembles SSE chunks into the JSON a non-streaming call would have
 * returned (to cache a streamed response), and replays a cached JSON answer as SSE chunks the openai SDK accepts.
 */
import type { JsonObject, JsonValue } from '../core/types.js';

type Choice = { index: number; text: string; finish_reason: JsonValue; role?: string };

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
      const delta = c['delta'] as { content?: string; role?: string } | undefined;
      cur.text += delta?.content ?? (typeof c['text'] === 'string' ? c['text'] : '');
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
          ? { index: c.index, message: { role: 'assistant', content: c.text }, logprobs: null, finish_reason: c.finish_reason }
          : { index: c.index, text: c.text, logprobs: null, finish_reason: c.finish_reason },
      ),
      usage: this.usage,
    };
  }
}

/** Replays a cached chat or text completion as stream chunks (role, content, finish, then usage). */
export function* replayAsChunks(answer: JsonObject): Generator<string> {
  const chat = answer['object'] === 'chat.completion';
  const base = { id: answer['id'], object: chat ? 'chat.completion.chunk' : 'text_completion', created: answer['created'], model: answer['model'] };
  const choices = (answer['choices'] as Array<Record<string, JsonValue>>) ?? [];
  for (const c of choices) {
    const index = c['index'];
    if (chat) {
      const msg = c['message'] as { content?: string | null } | null;
      yield JSON.stringify({
        ...base,
        choices: [{ index, delta: { role: 'assistant', content: msg?.content ?? '' }, logprobs: null, finish_reason: null }],
      });
      yield JSON.stringify({ ...base, choices: [{ index, delta: {}, logprobs: null, finish_reason: c['finish_reason'] }] });
    } else {
      yield JSON.stringify({ ...base, choices: [{ index, text: c['text'], logprobs: null, finish_reason: null }] });
      yield JSON.stringify({ ...base, choices: [{ index, text: '', logprobs: null, finish_reason: c['finish_reason'] }] });
    }
  }
  if (answer['usage']) yield JSON.stringify({ ...base, choices: [], usage: answer['usage'] });
}
