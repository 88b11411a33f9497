/**
 * Claude-Code-style and Codex-style requests against the edge default model (random weights, real worker, real
 * onnxruntime): tools rendered through the chat template, forced tool calls (named / required) decoded under the
 * tool's JSON-schema grammar so arguments always validate, `auto` giving valid tool calls or plain text, structured
 * output (json_schema / json_object) that always parses and validates, through all three fronts, streaming and not.
 */
import Anthropic from '@anthropic-ai/sdk';
import { Validator, type Schema } from '@cfworker/json-schema';
import fc from 'fast-check';
import OpenAI from 'openai';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_ID } from '../../edge-runtime/index.js';
import { randomSchema } from '../../edge-runtime/testing/random-schemas.js';
import type { EdgeUpstream } from '../../gateway/upstreams/edge/edge-upstream.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

const M = DEFAULT_MODEL_ID;
const weather = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] }, days: { type: 'integer', minimum: 1, maximum: 9 } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const bash = {
  type: 'object',
  properties: { command: { type: 'string', maxLength: 24 }, timeout: { type: 'integer', minimum: 0, maximum: 99 } },
  required: ['command'],
  additionalProperties: false,
};
const valid = (schema: object, args: unknown) => new Validator(schema as Schema, '2020-12', false).validate(args).valid;

let gw: TestGateway;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  gw = await startTestGateway({
    cache: { backend: 'off' },
    edge: { enabled: true, cache_dir: join(tmpdir(), 'switchyard-test-default-model'), kv_budget_mb: 32 },
  });
  const edge = gw.upstreams.find((u) => u.id === 'edge') as EdgeUpstream;
  await waitUntil(() => edge.ready(), { timeoutMs: 120_000 });
  openai = new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
}, 180_000);
afterAll(async () => {
  await gw?.shutdown();
});

describe('tools and structured output on the edge', () => {
  it('chat completions: a named tool call and a required one have schema-valid arguments, streamed as deltas too', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'weather', parameters: weather } },
      { type: 'function', function: { name: 'bash', parameters: bash } },
    ];
    for (const seed of [1, 2, 3]) {
      const named = await openai.chat.completions.create({
        model: M,
        messages: [{ role: 'user', content: `run it ${seed}` }],
        tools,
        tool_choice: { type: 'function', function: { name: 'bash' } },
        max_tokens: 120,
        seed,
      });
      const call = named.choices[0]!.message.tool_calls?.[0];
      expect(named.choices[0]!.finish_reason).toBe('tool_calls');
      expect(call?.type === 'function' && call.function.name).toBe('bash');
      expect(call?.type === 'function' && valid(bash, JSON.parse(call.function.arguments))).toBe(true);

      const required = await openai.chat.completions.create({
        model: M,
        messages: [{ role: 'user', content: `weather or bash ${seed}` }],
        tools,
        tool_choice: 'required',
        max_tokens: 120,
        seed,
      });
      const rc = required.choices[0]!.message.tool_calls?.[0];
      if (rc?.type !== 'function') throw new Error('no function call');
      expect(['weather', 'bash']).toContain(rc.function.name);
      expect(valid(rc.function.name === 'weather' ? weather : bash, JSON.parse(rc.function.arguments))).toBe(true);
    }
    const stream = await openai.chat.completions.create({
      model: M,
      messages: [{ role: 'user', content: 'stream a call' }],
      tools,
      tool_choice: { type: 'function', function: { name: 'weather' } },
      max_tokens: 120,
      stream: true,
    });
    let args = '';
    let name = '';
    let pieces = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) {
        name ||= t.function?.name ?? '';
        args += t.function?.arguments ?? '';
        pieces++;
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe('weather');
    expect(pieces).toBeGreaterThan(1);
    expect(finish).toBe('tool_calls');
    expect(valid(weather, JSON.parse(args))).toBe(true);
  }, 120_000);

  it('property: for random tool schemas, forced tool calls (required / named, streamed or not) have valid arguments', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(randomSchema, fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 1e6 }), async (schema, named, stream, seed) => {
        // The default model's context is 1024 byte-level tokens: the schema is rendered into the prompt.
        fc.pre(JSON.stringify(schema).length < 360);
        const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'f', parameters: schema } }];
        const body = {
          model: M,
          messages: [{ role: 'user' as const, content: 'call f' }],
          tools,
          tool_choice: named ? ({ type: 'function', function: { name: 'f' } } as const) : ('required' as const),
          max_tokens: 300,
          seed,
          temperature: 1,
        };
        let args = '';
        if (stream) {
          for await (const chunk of await openai.chat.completions.create({ ...body, stream: true })) {
            for (const t of chunk.choices[0]?.delta?.tool_calls ?? []) args += t.function?.arguments ?? '';
          }
        } else {
          const c = (await openai.chat.completions.create(body)).choices[0]!.message.tool_calls?.[0];
          args = c?.type === 'function' ? c.function.arguments : '';
        }
        expect(valid(schema, JSON.parse(args)), `${args} against ${JSON.stringify(schema)}`).toBe(true);
        checked++;
      }),
      { numRuns: 16 },
    );
    expect(checked).toBeGreaterThan(8);
  }, 240_000);

  it('chat completions: auto gives valid tool calls or plain text, never a malformed call', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'weather', parameters: weather } }];
    for (const seed of [1, 2, 3, 4]) {
      const r = await openai.chat.completions.create({ model: M, messages: [{ role: 'user', content: `hi ${seed}` }], tools, max_tokens: 24, seed });
      const m = r.choices[0]!.message;
      for (const c of m.tool_calls ?? []) expect(c.type === 'function' && valid(weather, JSON.parse(c.function.arguments))).toBe(true);
      if (!m.tool_calls?.length) expect(typeof m.content).toBe('string');
    }
  }, 60_000);

  it('chat completions: response_format json_schema and json_object always parse (and validate)', async () => {
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, n: { type: 'integer', minimum: 0, maximum: 99 } },
      required: ['ok', 'n'],
      additionalProperties: false,
    };
    for (const seed of [1, 2]) {
      const r = await openai.chat.completions.create({
        model: M,
        messages: [{ role: 'user', content: 'json please' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
        max_tokens: 100,
        seed,
      });
      expect(valid(schema, JSON.parse(r.choices[0]!.message.content!))).toBe(true);
    }
    const bad = await openai.chat.completions
      .create({
        model: M,
        messages: [{ role: 'user', content: 'x' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 7 } } },
      })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
  }, 60_000);

  it('Responses API (Codex-style): forced function call, round trip with previous_response_id, streamed arguments, text.format', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'shell', parameters: bash, strict: true }];
    const first = await openai.responses.create({
      model: M,
      instructions: 'You are a coding agent. Use the shell tool.',
      input: [{ role: 'user', content: 'list files' }],
      tools,
      tool_choice: 'required',
      max_output_tokens: 120,
    });
    const call = first.output.find((o) => o.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(valid(bash, JSON.parse(call.arguments))).toBe(true);
    const second = await openai.responses.create({
      model: M,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'a.txt\nb.txt' }],
      tools,
      max_output_tokens: 16,
    });
    expect(['completed', 'incomplete']).toContain(second.status);
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);

    const stream = await openai.responses.create({
      model: M,
      input: 'again',
      tools,
      tool_choice: { type: 'function', name: 'shell' },
      max_output_tokens: 120,
      stream: true,
    });
    let deltas = '';
    let doneArgs = '';
    for await (const e of stream) {
      if (e.type === 'response.function_call_arguments.delta') deltas += e.delta;
      if (e.type === 'response.function_call_arguments.done') doneArgs = e.arguments;
    }
    expect(deltas).toBe(doneArgs);
    expect(valid(bash, JSON.parse(doneArgs))).toBe(true);

    const schema = { type: 'object', properties: { answer: { enum: ['yes', 'no'] } }, required: ['answer'], additionalProperties: false };
    const structured = await openai.responses.create({
      model: M,
      input: 'yes or no?',
      text: { format: { type: 'json_schema', name: 'yn', schema, strict: true } },
      max_output_tokens: 50,
    });
    expect(valid(schema, JSON.parse(structured.output_text))).toBe(true);
  }, 120_000);

  it('Messages API (Claude-Code-style): tool_use with valid input, streamed, and a tool_result round trip', async () => {
    const tools: Anthropic.Tool[] = [
      { name: 'Bash', description: 'Run a shell command', input_schema: bash as Anthropic.Tool.InputSchema },
      { name: 'Weather', description: 'Weather', input_schema: weather as Anthropic.Tool.InputSchema },
    ];
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }];
    const first = await anthropic.messages.create({
      model: M,
      max_tokens: 120,
      system,
      tools,
      tool_choice: { type: 'tool', name: 'Bash' },
      metadata: { user_id: 'u1' },
      messages: [{ role: 'user', content: 'list files' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use');
    expect(use.name).toBe('Bash');
    expect(valid(bash, use.input)).toBe(true);

    const stream = anthropic.messages.stream({
      model: M,
      max_tokens: 120,
      system,
      // One tool here: the default model's context is 1024 byte-level tokens and the history already holds a call.
      tools: [tools[0]!],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'list files' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'permission denied', is_error: true }] },
      ],
    });
    const final = await stream.finalMessage();
    const again = final.content.find((b) => b.type === 'tool_use');
    if (again?.type !== 'tool_use') throw new Error('no streamed tool_use');
    expect(again.name).toBe('Bash');
    expect(valid(bash, again.input)).toBe(true);

    const text = await anthropic.messages.create({ model: M, max_tokens: 8, messages: [{ role: 'user', content: 'say hi' }] });
    expect(text.content[0]?.type).toBe('text');
    // The random-weight model may sample EOS early: either way the stop reason must agree with the token count.
    expect(text.usage.output_tokens).toBeGreaterThan(0);
    expect(text.usage.output_tokens).toBeLessThanOrEqual(8);
    expect(['max_tokens', 'end_turn']).toContain(text.stop_reason);
    if (text.stop_reason === 'max_tokens') expect(text.usage.output_tokens).toBe(8);
    else expect(text.usage.output_tokens).toBeLessThanOrEqual(8);
  }, 120_000);
});
