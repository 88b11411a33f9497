/**
 * Tools and structured output on the edge. `toolPlan` reads tools / tool_choice / response_format from a chat body
 * and says what the engine must enforce: a named or required tool call is a JSON-schema grammar over its arguments,
 * response_format is a grammar over the answer, `auto` is free text parsed for Hermes `<tool_call>` blocks afterwards.
 * `ToolOutput` turns a choice's generated text into chat deltas (content or tool_calls) and the final message; with
 * `auto`, output is either valid tool calls (known name, arguments valid against the tool's schema) or plain text.
 */
import { Validator, type Schema } from '@cfworker/json-schema';
import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import { validate } from '../../core/validate.js';
import type { ChatTool, OutputConstraint } from '../../../edge-runtime/index.js';

const TOOL_OPEN = '<tool_call>';
const TOOL_CLOSE = '</tool_call>';

const toolsSchema = z.looseObject({
  tools: z
    .array(
      z.looseObject({
        type: z.literal('function'),
        function: z.looseObject({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .nullish(),
  tool_choice: z
    .union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) })])
    .nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.looseObject({ type: z.literal('text') }),
      z.looseObject({ type: z.literal('json_object') }),
      z.looseObject({
        type: z.literal('json_schema'),
        json_schema: z.looseObject({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()).optional() }),
      }),
    ])
    .nullish(),
});

export interface ToolPlan {
  tools: ChatTool[];
  /** free: no tool parsing; auto: parse `<tool_call>` blocks; one: the whole output is `forced`'s arguments; any: `{name, arguments}`. */
  mode: 'free' | 'auto' | 'one' | 'any';
  forced?: ChatTool;
  constraint?: OutputConstraint;
}

const paramsOf = (t: ChatTool): Record<string, unknown> => t.function.parameters ?? { type: 'object', properties: {} };

export function toolPlan(body: JsonObject): ToolPlan {
  const b = validate(toolsSchema, body);
  const tools: ChatTool[] = (b.tools ?? []).map((t) => ({
    type: 'function',
    function: {
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      parameters: t.function.parameters ?? { type: 'object', properties: {} },
    },
  }));
  const choice = b.tool_choice ?? (tools.length > 0 ? 'auto' : 'none');
  const format = b.response_format;
  const formatConstraint: OutputConstraint | undefined =
    format?.type === 'json_object'
      ? { kind: 'json_object' }
      : format?.type === 'json_schema'
        ? { kind: 'json_schema', schema: JSON.stringify(format.json_schema.schema ?? {}) }
        : undefined;
  if (tools.length === 0 || choice === 'none') return { tools, mode: 'free', constraint: formatConstraint };
  if (choice === 'auto') return { tools, mode: 'auto', constraint: formatConstraint };
  if (typeof choice === 'object') {
    const forced = tools.find((t) => t.function.name === choice.function.name);
    if (!forced)
      throw new GatewayError(`tool_choice names '${choice.function.name}', which is not in tools.`, {
        status: 400,
        code: 'invalid_value',
        param: 'tool_choice',
      });
    return { tools, mode: 'one', forced, constraint: { kind: 'json_schema', schema: JSON.stringify(paramsOf(forced)) } };
  }
  // required: one tool is a named call; several are a choice of {name, arguments} objects.
  if (tools.length === 1)
    return { tools, mode: 'one', forced: tools[0], constraint: { kind: 'json_schema', schema: JSON.stringify(paramsOf(tools[0]!)) } };
  const anyOf = tools.map((t) => ({
    type: 'object',
    properties: { name: { enum: [t.function.name] }, arguments: paramsOf(t) },
    required: ['name', 'arguments'],
    additionalProperties: false,
  }));
  return { tools, mode: 'any', constraint: { kind: 'json_schema', schema: JSON.stringify({ anyOf }) } };
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function callId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return 'call_' + Array.from(bytes, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Parses `<tool_call>{"name":..,"arguments":..}</tool_call>` blocks; undefined unless every block is a valid call. */
function parseHermes(
  text: string,
  tools: readonly ChatTool[],
  validators: Map<string, Validator>,
): { content: string; calls: ToolCall[] } | undefined {
  const calls: ToolCall[] = [];
  let content = '';
  let at = 0;
  for (;;) {
    const open = text.indexOf(TOOL_OPEN, at);
    if (open < 0) break;
    const close = text.indexOf(TOOL_CLOSE, open);
    if (close < 0) return undefined;
    content += text.slice(at, open);
    let v: unknown;
    try {
      v = JSON.parse(text.slice(open + TOOL_OPEN.length, close));
    } catch {
      return undefined;
    }
    const call = v as { name?: unknown; arguments?: unknown };
    const tool = tools.find((t) => t.function.name === call.name);
    if (!tool || typeof call.arguments !== 'object' || call.arguments === null) return undefined;
    if (!validatorFor(tool, validators).validate(call.arguments).valid) return undefined;
    calls.push({ id: callId(), type: 'function', function: { name: tool.function.name, arguments: JSON.stringify(call.arguments) } });
    at = close + TOOL_CLOSE.length;
  }
  if (calls.length === 0) return undefined;
  return { content: (content + text.slice(at)).trim(), calls };
}

function validatorFor(tool: ChatTool, cache: Map<string, Validator>): Validator {
  let v = cache.get(tool.function.name);
  if (!v) cache.set(tool.function.name, (v = new Validator(paramsOf(tool) as Schema, '2020-12', false)));
  return v;
}

/** Longest suffix of `text` that is a prefix of `marker` (text that may yet become the marker). */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) if (marker.startsWith(text.slice(text.length - n))) return n;
  return 0;
}

/** One choice's output: text in, chat deltas out (streaming), and the final message (both). */
export class ToolOutput {
  private text = '';
  /** Streaming position: how much of `text` has gone out as content. */
  private sent = 0;
  private held = false;
  private readonly validators = new Map<string, Validator>();
  private readonly oneId = callId();
  private final: { content: string | null; calls: ToolCall[] } | undefined;

  constructor(private readonly plan: ToolPlan) {}

  /** Deltas to send for newly generated text. */
  push(piece: string): JsonObject[] {
    this.text += piece;
    const p = this.plan;
    if (p.mode === 'free') return [{ content: piece }];
    if (p.mode === 'one') {
      const first = this.sent === 0;
      this.sent += piece.length;
      const fn: JsonObject = first ? { name: p.forced!.function.name, arguments: piece } : { arguments: piece };
      return [{ tool_calls: [{ index: 0, ...(first ? { id: this.oneId, type: 'function' } : {}), function: fn }] }];
    }
    if (p.mode === 'any' || this.held) return [];
    // auto: text streams as content until something that may open a tool call; from there it is held to the end.
    const open = this.text.indexOf(TOOL_OPEN, this.sent);
    const upTo = open >= 0 ? open : this.text.length - partialSuffix(this.text, TOOL_OPEN);
    if (open >= 0) this.held = true;
    const out = this.text.slice(this.sent, upTo);
    this.sent = upTo;
    return out ? [{ content: out }] : [];
  }

  /** Deltas to send at the end of the choice. */
  end(): JsonObject[] {
    const m = this.message();
    const p = this.plan;
    if (p.mode === 'free' || p.mode === 'one') return [];
    const out: JsonObject[] = [];
    if (m.calls.length === 0) {
      const rest = this.text.slice(this.sent);
      if (rest) out.push({ content: rest });
      return out;
    }
    m.calls.forEach((c, index) =>
      out.push({ tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }] }),
    );
    return out;
  }

  /** Whether the choice ended as tool calls (finish_reason `tool_calls`). */
  get calledTools(): boolean {
    return this.message().calls.length > 0;
  }

  /** The final assistant message: content and tool calls. */
  message(): { content: string | null; calls: ToolCall[] } {
    if (this.final) return this.final;
    const p = this.plan;
    if (p.mode === 'free') return (this.final = { content: this.text, calls: [] });
    if (p.mode === 'one') {
      return (this.final = {
        content: null,
        calls: [{ id: this.oneId, type: 'function', function: { name: p.forced!.function.name, arguments: this.text } }],
      });
    }
    if (p.mode === 'any') {
      try {
        const v = JSON.parse(this.text) as { name: string; arguments: JsonValue };
        return (this.final = {
          content: null,
          calls: [{ id: callId(), type: 'function', function: { name: v.name, arguments: JSON.stringify(v.arguments) } }],
        });
      } catch {
        // Cut short by max_tokens: what was generated goes back as text rather than as a malformed call.
        return (this.final = { content: this.text, calls: [] });
      }
    }
    const parsed = parseHermes(this.text, p.tools, this.validators);
    return (this.final = parsed ? { content: parsed.content || null, calls: parsed.calls } : { content: this.text, calls: [] });
  }
}
