/** OpenAI Responses API request -> chat completions body (input items, instructions, tools, text.format, history). */
import { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import { validate } from '../core/validate.js';

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional(), image_url: z.string().nullish() });

const inputItem = z.looseObject({
  type: z.string().optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']).optional(),
  content: z.union([z.string(), z.array(contentPart)]).optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.union([z.string(), z.array(contentPart)]).optional(),
});

const functionTool = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().default('response'),
    schema: z.record(z.string(), z.unknown()),
    strict: z.boolean().nullish(),
    description: z.string().optional(),
  }),
]);

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItem)]),
  instructions: z.string().nullish(),
  tools: z.array(functionTool).optional(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.literal('function'), name: z.string() })]).optional(),
  text: z.looseObject({ format: textFormat.optional() }).optional(),
  previous_response_id: z.string().nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().optional(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

export function parseResponsesRequest(body: JsonObject): ResponsesRequest {
  return validate(responsesRequestSchema, body);
}

type ChatMessage = JsonObject;

function partsToChat(parts: z.infer<typeof contentPart>[], where: string): JsonValue {
  return parts.map((p, i): JsonValue => {
    if (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text') return { type: 'text', text: p.text ?? '' };
    if (p.type === 'input_image' && p.image_url) return { type: 'image_url', image_url: { url: p.image_url } };
    throw new GatewayError(`Content part type '${p.type}' is not supported by this gateway.`, {
      status: 400,
      code: 'unsupported_parameter',
      param: `${where}[${i}].type`,
    });
  });
}

/** Input items -> chat messages; consecutive function_call items become one assistant message with tool_calls. */
export function inputToMessages(input: ResponsesRequest['input']): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const out: ChatMessage[] = [];
  input.forEach((item, i) => {
    const type = item.type ?? 'message';
    if (type === 'message') {
      if (!item.role)
        throw new GatewayError('A message item needs a role.', { status: 400, code: 'missing_required_parameter', param: `input[${i}].role` });
      const content = typeof item.content === 'string' ? item.content : partsToChat(item.content ?? [], `input[${i}].content`);
      out.push({ role: item.role, content });
    } else if (type === 'function_call') {
      const call = { id: item.call_id ?? '', type: 'function', function: { name: item.name ?? '', arguments: item.arguments ?? '{}' } };
      const last = out[out.length - 1];
      if (last && last['role'] === 'assistant' && Array.isArray(last['tool_calls'])) last['tool_calls'].push(call);
      else out.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      const output = typeof item.output === 'string' ? item.output : (item.output ?? []).map((p) => p.text ?? '').join('');
      out.push({ role: 'tool', tool_call_id: item.call_id ?? '', content: output });
    } else if (type === 'reasoning' || type === 'item_reference') {
      // Reasoning items carry no text a chat destination could use; references point at stored items we replay whole.
    } else {
      throw new GatewayError(`Input item type '${type}' is not supported by this gateway.`, {
        status: 400,
        code: 'unsupported_parameter',
        param: `input[${i}].type`,
      });
    }
  });
  return out;
}

/**
 * The chat body for a Responses request. `history` is the stored conversation of previous_response_id (its input and
 * output, without its instructions: the Responses API does not carry instructions over).
 */
export function toChatBody(r: ResponsesRequest, history: ChatMessage[]): { body: JsonObject; conversation: ChatMessage[] } {
  const conversation = [...history, ...inputToMessages(r.input)];
  const messages: ChatMessage[] = r.instructions ? [{ role: 'system', content: r.instructions }, ...conversation] : conversation;
  const body: JsonObject = { model: r.model, messages };
  if (r.tools && r.tools.length > 0) {
    body['tools'] = r.tools.map((t, i): JsonValue => {
      if (t.type !== 'function' || !t.name)
        throw new GatewayError(`Tool type '${t.type}' is not supported by this gateway; use function tools.`, {
          status: 400,
          code: 'unsupported_parameter',
          param: `tools[${i}].type`,
        });
      const fn: JsonObject = { name: t.name, parameters: (t.parameters ?? { type: 'object', properties: {} }) as JsonObject };
      if (t.description) fn['description'] = t.description;
      if (t.strict != null) fn['strict'] = t.strict;
      return { type: 'function', function: fn };
    });
  }
  if (r.tool_choice !== undefined)
    body['tool_choice'] = typeof r.tool_choice === 'string' ? r.tool_choice : { type: 'function', function: { name: r.tool_choice.name } };
  const format = r.text?.format;
  if (format?.type === 'json_object') body['response_format'] = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    const js: JsonObject = { name: format.name, schema: format.schema as JsonObject };
    if (format.strict != null) js['strict'] = format.strict;
    body['response_format'] = { type: 'json_schema', json_schema: js };
  }
  if (r.temperature != null) body['temperature'] = r.temperature;
  if (r.top_p != null) body['top_p'] = r.top_p;
  if (r.max_output_tokens != null) body['max_completion_tokens'] = r.max_output_tokens;
  if (r.parallel_tool_calls != null && body['tools']) body['parallel_tool_calls'] = r.parallel_tool_calls;
  if (r.metadata) body['metadata'] = r.metadata;
  if (r.user) body['user'] = r.user;
  if (r.stream) {
    body['stream'] = true;
    // Usage is part of response.completed, so the front always asks for it.
    body['stream_options'] = { include_usage: true };
  }
  return { body, conversation };
}
