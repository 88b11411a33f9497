/**
 * Reads chat.completion.chunk payloads into a front-neutral sequence of happenings (text, tool-call pieces, the end),
 * so the Responses and Messages stream writers share one reading of the chat stream. Usage is captured into ctx here.
 */
import type { RequestContext } from '../core/request-context.js';
import type { Usage } from '../core/types.js';

export type ChatPiece =
  { kind: 'text'; text: string } | { kind: 'tool'; index: number; id?: string; name?: string; args: string } | { kind: 'finish'; reason: string };

interface ChunkShape {
  choices?: Array<{
    index?: number;
    delta?: {
      content?: string | null;
      tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: Usage | null;
}

/** Only choice 0 is read: neither the Responses API nor Anthropic's Messages API has `n`. */
export async function* chatPieces(events: AsyncIterable<string>, ctx: RequestContext): AsyncGenerator<ChatPiece> {
  for await (const data of events) {
    if (ctx.ttftMs === undefined) ctx.ttftMs = Date.now() - ctx.startedAt;
    let chunk: ChunkShape;
    try {
      chunk = JSON.parse(data) as ChunkShape;
    } catch {
      continue;
    }
    if (chunk.usage && typeof chunk.usage.prompt_tokens === 'number') ctx.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      if ((choice.index ?? 0) !== 0) continue;
      const d = choice.delta;
      if (d?.content) yield { kind: 'text', text: d.content };
      for (const t of d?.tool_calls ?? []) {
        yield { kind: 'tool', index: t.index ?? 0, id: t.id, name: t.function?.name, args: t.function?.arguments ?? '' };
      }
      if (choice.finish_reason) yield { kind: 'finish', reason: choice.finish_reason };
    }
  }
}
