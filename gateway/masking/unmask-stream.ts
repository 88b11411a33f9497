/**
 * Unmasks a chat.completion.chunk (or text_completion) stream on its way to the client: message content, legacy
 * completion text and tool-call arguments, per choice and per tool call, with placeholders split across chunks put
 * back whole (HeldText). Every front reads the chat stream after this, so /v1/responses and /v1/messages streams are
 * unmasked too. Usage chunks and anything unparseable pass through unchanged.
 */
import { HeldText } from './held-text.js';
import { jsonEscapedTable } from './unmask-answer.js';

interface ToolDelta {
  index?: number;
  function?: { arguments?: string };
}
interface ChoiceShape {
  index?: number;
  text?: string;
  delta?: { content?: string | null; tool_calls?: ToolDelta[] };
  finish_reason?: string | null;
}
interface ChunkShape {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: ChoiceShape[];
}

const contentKey = (choice: number) => `c${choice}`;
const textKey = (choice: number) => `x${choice}`;
const toolPrefix = (choice: number) => `t${choice}.`;

export async function* unmaskStream(events: AsyncIterable<string>, masks: ReadonlyMap<string, string>): AsyncGenerator<string> {
  const held = new HeldText(masks);
  const escaped = jsonEscapedTable(masks);
  let base: ChunkShape | undefined;
  for await (const data of events) {
    let chunk: ChunkShape;
    try {
      chunk = JSON.parse(data) as ChunkShape;
    } catch {
      yield data;
      continue;
    }
    if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) {
      yield data;
      continue;
    }
    base = chunk;
    for (const choice of chunk.choices) {
      const i = choice.index ?? 0;
      const d = choice.delta;
      if (d && typeof d.content === 'string') d.content = held.push(contentKey(i), d.content, masks);
      for (const t of d?.tool_calls ?? []) {
        if (typeof t.function?.arguments === 'string')
          t.function.arguments = held.push(`${toolPrefix(i)}${t.index ?? 0}`, t.function.arguments, escaped);
      }
      if (typeof choice.text === 'string') choice.text = held.push(textKey(i), choice.text, masks);
      if (choice.finish_reason) release(held, choice, i);
    }
    yield JSON.stringify(chunk);
  }
  // A stream that ended without finish reasons: what is still held goes out in one last chunk.
  if (base && held.heldKeys().length > 0) {
    const choices = [...new Set(held.heldKeys().map((k) => Number(k.slice(1).split('.')[0])))].map((index) => {
      const choice: ChoiceShape = base?.object === 'text_completion' ? { index, text: '' } : { index, delta: {} };
      release(held, choice, index);
      return choice;
    });
    yield JSON.stringify({ id: base.id, object: base.object, created: base.created, model: base.model, choices });
  }
}

/** A choice has finished: everything held for it goes out in this chunk, before the finish. */
function release(held: HeldText, choice: ChoiceShape, i: number): void {
  const content = held.flush(contentKey(i));
  if (content) {
    choice.delta ??= {};
    choice.delta.content = (choice.delta.content ?? '') + content;
  }
  const text = held.flush(textKey(i));
  if (text) choice.text = (choice.text ?? '') + text;
  for (const key of held.heldKeys()) {
    if (!key.startsWith(toolPrefix(i))) continue;
    const index = Number(key.slice(toolPrefix(i).length));
    const rest = held.flush(key);
    choice.delta ??= {};
    const calls = (choice.delta.tool_calls ??= []);
    const call = calls.find((c) => (c.index ?? 0) === index);
    if (call) call.function = { ...call.function, arguments: (call.function?.arguments ?? '') + rest };
    else calls.push({ index, function: { arguments: rest } });
  }
}
