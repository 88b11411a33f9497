/** Anthropic Messages API request -> chat completions body (system blocks, tool_use / tool_result, tools, tool_choice). */
import { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import { validate } from '../core/validate.js';

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const block = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  tool_use_id: z.string().optional(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]).optional(),
  is_error: z.boolean().optional(),
  source: z.looseObject({ type: z.string(), media_type: z.string().optional(), data: z.string().optional(), url: z.string().optional() }).optional(),
});

export const messagesRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(block)]) })).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.record(z.string(), z.unknown()).optional(),
        type: z.string().optional(),
      }),
    )
    .optional(),
  tool_choice: z
    .looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() })
    .optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

export function parseMessagesRequest(body: JsonObject): MessagesRequest {
  return validate(messagesRequestSchema, body);
}

const unsupported = (what: string, param: string) =>
  new GatewayError(`${what} is not supported by this gateway.`, { status: 400, code: 'unsupported_parameter', param });

function blockText(content: string | Array<{ type: string; text?: string }> | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('');
}

/** One Anthropic message -> one or more chat messages (tool results become `tool` messages, placed first). */
function toChatMessages(m: MessagesRequest['messages'][number], i: number): JsonObject[] {
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  const tools: JsonObject[] = [];
  const parts: JsonValue[] = [];
  const calls: JsonValue[] = [];
  m.content.forEach((b, j) => {
    const where = `messages[${i}].content[${j}]`;
    if (b.type === 'text') parts.push({ type: 'text', text: b.text ?? '' });
    else if (b.type === 'image') {
      const src = b.source;
      const url = src?.type === 'base64' ? `data:${src.media_type ?? 'image/png'};base64,${src.data ?? ''}` : src?.url;
      if (!url) throw unsupported(`Image source '${src?.type}'`, `${where}.source`);
      parts.push({ type: 'image_url', image_url: { url } });
    } else if (b.type === 'tool_use') {
      if (m.role !== 'assistant') throw unsupported('tool_use in a user message', `${where}.type`);
      calls.push({ id: b.id ?? '', type: 'function', function: { name: b.name ?? '', arguments: JSON.stringify(b.input ?? {}) } });
    } else if (b.type === 'tool_result') {
      const text = blockText(b.content);
      // Chat completions has no error flag on tool results; the model reads it in the text, as Anthropic's does.
      tools.push({ role: 'tool', tool_call_id: b.tool_use_id ?? '', content: b.is_error ? `Error: ${text}` : text });
    } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
      // Thinking blocks a client sends back carry nothing a chat destination can use.
    } else throw unsupported(`Content block type '${b.type}'`, `${where}.type`);
  });
  const out: JsonObject[] = [...tools];
  const onlyText = parts.every((p) => (p as JsonObject)['type'] === 'text');
  const content: JsonValue = onlyText ? parts.map((p) => String((p as JsonObject)['text'])).join('') : parts;
  if (calls.length > 0) out.push({ role: 'assistant', content: parts.length > 0 ? content : null, tool_calls: calls });
  else if (parts.length > 0) out.push({ role: m.role, content });
  return out;
}

export function toChatBody(r: MessagesRequest): JsonObject {
  const messages: JsonObject[] = [];
  const system = typeof r.system === 'string' ? r.system : (r.system ?? []).map((b) => b.text).join('\n');
  if (system.length > 0) messages.push({ role: 'system', content: system });
  r.messages.forEach((m, i) => messages.push(...toChatMessages(m, i)));
  const body: JsonObject = { model: r.model, messages, max_tokens: r.max_tokens };
  if (r.tools && r.tools.length > 0) {
    body['tools'] = r.tools.map((t, i): JsonValue => {
      if (t.type !== undefined && t.type !== 'custom') throw unsupported(`Server tool '${t.type}'`, `tools[${i}].type`);
      const fn: JsonObject = { name: t.name, parameters: (t.input_schema ?? { type: 'object', properties: {} }) as JsonObject };
      if (t.description) fn['description'] = t.description;
      return { type: 'function', function: fn };
    });
  }
  const tc = r.tool_choice;
  if (tc) {
    if (tc.type === 'tool' && !tc.name)
      throw new GatewayError('tool_choice of type tool needs a name.', {
        status: 400,
        code: 'missing_required_parameter',
        param: 'tool_choice.name',
      });
    body['tool_choice'] =
      tc.type === 'auto'
        ? 'auto'
        : tc.type === 'none'
          ? 'none'
          : tc.type === 'any'
            ? 'required'
            : { type: 'function', function: { name: tc.name ?? '' } };
    if (tc.disable_parallel_tool_use && body['tools']) body['parallel_tool_calls'] = false;
  }
  if (r.stop_sequences && r.stop_sequences.length > 0) body['stop'] = r.stop_sequences.slice(0, 4);
  if (r.temperature !== undefined) body['temperature'] = r.temperature;
  if (r.top_p !== undefined) body['top_p'] = r.top_p;
  // vLLM's extension; destinations that do not know it ignore it.
  if (r.top_k !== undefined && r.top_k > 0) body['top_k'] = r.top_k;
  if (r.metadata?.user_id) body['user'] = r.metadata.user_id;
  if (r.stream) {
    body['stream'] = true;
    body['stream_options'] = { include_usage: true };
  }
  return body;
}
