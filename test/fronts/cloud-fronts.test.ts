/**
 * The Responses and Messages fronts against a fake cloud, with each vendor's official SDK as the client: text, tool
 * round trips, streaming, previous_response_id (per tenant), Anthropic-shaped errors raised as the SDK's classes,
 * x-api-key auth, and records that say which front a request came through.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import type { RequestContext } from '../../gateway/core/request-context.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

const KEYS = { a: 'sk-tenant-a-0123456789', b: 'sk-tenant-b-0123456789' };
const WEATHER_ARGS = '{"city":"Paris","unit":"c"}';
const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};

let cloud: FakeOpenAI;
let gw: TestGateway;
const done: RequestContext[] = [];
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  cloud = await startFakeOpenAI({ toolArguments: WEATHER_ARGS });
  gw = await startTestGateway(
    {
      keys: [
        { id: 'a', sha256: await sha256Hex(KEYS.a), tenant: 'ta' },
        { id: 'b', sha256: await sha256Hex(KEYS.b), tenant: 'tb' },
      ],
      upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }],
    },
    { onComplete: (ctx: RequestContext) => done.push({ ...ctx }) },
  );
  openai = new OpenAI({ baseURL: gw.baseURL, apiKey: KEYS.a, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEYS.a, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
});

describe('/v1/responses with the openai SDK', () => {
  it('answers text, with instructions sent as a system message and usage mapped', async () => {
    const r = await openai.responses.create({ model: 'm', instructions: 'be brief', input: 'hello there' });
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe('echo: hello there');
    expect(r.usage?.input_tokens).toBeGreaterThan(0);
    const sent = cloud.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }> };
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'be brief' });
  });

  it('does a function-tool round trip and continues from previous_response_id', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'weather', parameters: weatherSchema, strict: true }];
    const first = await openai.responses.create({ model: 'm', input: 'weather in Paris?', tools, tool_choice: 'required' });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call?.type).toBe('function_call');
    if (call?.type !== 'function_call') throw new Error('no call');
    expect(call.name).toBe('weather');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris', unit: 'c' });
    const second = await openai.responses.create({
      model: 'm',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '18 degrees' }],
      tools,
    });
    expect(second.output_text).toBe('echo: tool said 18 degrees');
    // The cloud saw the whole conversation: the user's question, the assistant's call, and the tool's answer.
    const sent = cloud.requests.at(-1)!.body as { messages: Array<{ role: string; tool_calls?: unknown[]; tool_call_id?: string }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(sent.messages[1]!.tool_calls).toHaveLength(1);
    expect(sent.messages[2]!.tool_call_id).toBe(call.call_id);
    // Stored responses are per tenant: another tenant's key cannot continue it, and gets the SDK's NotFoundError.
    const other = new OpenAI({ baseURL: gw.baseURL, apiKey: KEYS.b, maxRetries: 0 });
    await expect(other.responses.create({ model: 'm', previous_response_id: first.id, input: 'hi' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const fetched = await openai.responses.retrieve(first.id);
    expect(fetched.id).toBe(first.id);
  });

  it('streams the Responses event sequence for text and for a function call', async () => {
    const stream = await openai.responses.create({ model: 'm', input: 'stream me', stream: true });
    const types: string[] = [];
    let text = '';
    let completed: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.output_text.delta') text += e.delta;
      if (e.type === 'response.completed') completed = e.response;
    }
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_text.delta');
    expect(types.at(-1)).toBe('response.completed');
    expect(text).toBe('echo: stream me');
    expect(completed?.output_text ?? completed?.output).toBeTruthy();
    expect(completed?.usage?.output_tokens).toBeGreaterThan(0);

    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'weather', parameters: weatherSchema, strict: true }];
    const s2 = await openai.responses.create({ model: 'm', input: 'weather?', tools, stream: true });
    let args = '';
    let doneArgs = '';
    for await (const e of s2) {
      if (e.type === 'response.function_call_arguments.delta') args += e.delta;
      if (e.type === 'response.function_call_arguments.done') doneArgs = e.arguments;
    }
    expect(args).toBe(WEATHER_ARGS);
    expect(doneArgs).toBe(WEATHER_ARGS);
  });

  it('raises the SDK error classes: bad request, unknown model, unknown previous response', async () => {
    await expect(openai.responses.create({ model: 'm', input: 'x', temperature: 7 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(openai.responses.create({ model: 'nope', input: 'x' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(openai.responses.create({ model: 'm', input: 'x', previous_response_id: 'resp_missing' })).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const bad = new OpenAI({ baseURL: gw.baseURL, apiKey: 'sk-wrong-key-000000', maxRetries: 0 });
    await expect(bad.responses.create({ model: 'm', input: 'x' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('/v1/messages with the @anthropic-ai/sdk', () => {
  const tools: Anthropic.Tool[] = [{ name: 'weather', description: 'weather in a city', input_schema: weatherSchema as Anthropic.Tool.InputSchema }];

  it('answers a Claude-Code-style request: system blocks with cache_control, metadata.user_id, anthropic-beta header', async () => {
    const msg = await anthropic.messages.create(
      {
        model: 'm',
        max_tokens: 64,
        system: [
          { type: 'text', text: 'You are a coding agent.', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Be terse.' },
        ],
        metadata: { user_id: 'user-123' },
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi claude', cache_control: { type: 'ephemeral' } }] }],
      },
      { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31,interleaved-thinking-2025-05-14' } },
    );
    expect(msg.type).toBe('message');
    expect(msg.role).toBe('assistant');
    expect(msg.content).toEqual([{ type: 'text', text: 'echo: hi claude' }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    const sent = cloud.requests.at(-1)!.body as { messages: Array<{ role: string; content: string }>; user?: string; max_tokens: number };
    expect(sent.messages[0]).toEqual({ role: 'system', content: 'You are a coding agent.\nBe terse.' });
    expect(sent.user).toBe('user-123');
    expect(sent.max_tokens).toBe(64);
  });

  it('does a tool round trip (tool_use -> tool_result with is_error) non-streaming and streaming', async () => {
    const first = await anthropic.messages.create({
      model: 'm',
      max_tokens: 64,
      tools,
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'weather in Paris?' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    if (use?.type !== 'tool_use') throw new Error('no tool_use');
    expect(use.name).toBe('weather');
    expect(use.input).toEqual({ city: 'Paris', unit: 'c' });
    const second = await anthropic.messages.create({
      model: 'm',
      max_tokens: 64,
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'station offline', is_error: true }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'echo: tool said Error: station offline' }]);

    const stream = anthropic.messages.stream({ model: 'm', max_tokens: 64, tools, messages: [{ role: 'user', content: 'weather?' }] });
    const kinds: string[] = [];
    stream.on('streamEvent', (e) => kinds.push(e.type));
    const final = await stream.finalMessage();
    expect(kinds[0]).toBe('message_start');
    expect(kinds).toContain('content_block_delta');
    expect(kinds.at(-1)).toBe('message_stop');
    expect(final.stop_reason).toBe('tool_use');
    const streamedUse = final.content.find((b) => b.type === 'tool_use');
    expect(streamedUse?.type === 'tool_use' && streamedUse.input).toEqual({ city: 'Paris', unit: 'c' });
  });

  it('streams text with .stream() and counts tokens', async () => {
    const stream = anthropic.messages.stream({ model: 'm', max_tokens: 64, messages: [{ role: 'user', content: 'stream please' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe('echo: stream please');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    const count = await anthropic.messages.countTokens({ model: 'm', messages: [{ role: 'user', content: 'count me please' }] });
    expect(count.input_tokens).toBeGreaterThan(0);
  });

  it('raises the SDK error classes from Anthropic-shaped errors', async () => {
    const e400 = await anthropic.messages.create({ model: 'm', max_tokens: -1, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(e400).toBeInstanceOf(Anthropic.BadRequestError);
    expect((e400 as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    await expect(anthropic.messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      Anthropic.NotFoundError,
    );
    const bad = new Anthropic({ baseURL: gw.url, apiKey: 'sk-wrong-key-000000', maxRetries: 0 });
    await expect(bad.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      Anthropic.AuthenticationError,
    );
    // Every attempt fails (the gateway retries before the first byte), so the client sees the 5xx.
    cloud.setFault({ status: 503 });
    await expect(anthropic.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(
      Anthropic.InternalServerError,
    );
    cloud.clearFault();
  });

  it("a stream that fails part-way ends with each protocol's error event, raised by each SDK", async () => {
    cloud.setFault({ cutAfterChunks: 1 });
    try {
      const r = await openai.responses.create({ model: 'm', input: 'will be cut', stream: true });
      const seen: string[] = [];
      const err = await (async () => {
        for await (const e of r) seen.push(e.type);
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(seen).toContain('response.output_text.delta');
      expect(seen).not.toContain('response.completed');

      const s = anthropic.messages.stream({ model: 'm', max_tokens: 16, messages: [{ role: 'user', content: 'will be cut' }] });
      const aerr = await s.finalMessage().catch((e: unknown) => e);
      expect(aerr).toBeInstanceOf(Anthropic.APIError);
    } finally {
      cloud.clearFault();
    }
  });

  it('records say which front a request came through', async () => {
    await waitUntil(() => done.some((c) => c.front === 'messages') && done.some((c) => c.front === 'responses'), { timeoutMs: 5000 });
    expect(done.filter((c) => c.front === 'messages').every((c) => c.endpoint === 'chat.completions')).toBe(true);
  });
});
