/**
 * Reversible masking through the real gateway: the cloud fake sees only placeholders and echoes them back split at
 * random points (content and tool-call arguments), and the client (the real openai SDK) must get exactly the original
 * text. Property: for random texts with repeated sensitive values and random chunkings, masked-then-unmasked equals
 * the original. Fixed seed in CI; FC_SEED=<n> explores.
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const SEED = Number(process.env['FC_SEED'] ?? 20261126);

/** Where the fake cuts its next answer: fractions of the text's length, set by each property run. */
let cuts: number[] = [0.5];
function splitter(text: string): string[] {
  const at = [...new Set(cuts.map((f) => Math.floor(f * text.length)))].filter((i) => i > 0 && i < text.length).sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const i of at) {
    out.push(text.slice(from, i));
    from = i;
  }
  out.push(text.slice(from));
  return out;
}

/** The fake's tool call carries the (masked) last user message, so its arguments hold placeholders to unmask. */
function argsFrom(body: Record<string, unknown>): string {
  const msgs = body['messages'] as Array<{ role: string; content: unknown }>;
  const last = [...msgs].reverse().find((m) => m.role === 'user');
  return JSON.stringify({ note: typeof last?.content === 'string' ? last.content : '' });
}

const POLICY =
  'version: 1\ntags:\n  pii: { route: redact, reversible: true }\n  secret: { route: redact, reversible: true }\nrules:\n  - id: all\n    route: [cloud]\n';

const SECRETS = ['jane.doe@example.com', 'bob@corp.example.org', 'sk-abcdefghijklmnopqrstuvwx1234', '123-45-6789', 'AKIAABCDEFGHIJKLMNOP', 'x7@q.io'];
// Ordinary words plus text that looks like the start of a placeholder but is not one.
const WORDS = [
  'hello',
  'please',
  'reply',
  'to',
  'and',
  '[',
  '[RED',
  '[REDACTED',
  '[REDACTED:',
  'a]',
  '[x]',
  'é',
  '😀',
  'tab\there',
  'line\nbreak',
  '"quoted"',
];

const message = fc
  .array(fc.oneof(fc.constantFrom(...SECRETS), fc.constantFrom(...WORDS)), { minLength: 1, maxLength: 14 })
  .map((parts) => parts.join(' '));
// Cut points in thousandths of the answer's length (fc.double favours tiny values, which would never cut).
const chunking = fc.array(
  fc.integer({ min: 1, max: 999 }).map((n) => n / 1000),
  { minLength: 0, maxLength: 40 },
);

let cloud: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  cloud = await startFakeOpenAI({ splitter, toolArguments: argsFrom });
  const file = join(mkdtempSync(join(tmpdir(), 'sy-masking-')), 'policy.yaml');
  writeFileSync(file, POLICY);
  gw = await startTestGateway({ policies: { file }, upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }] });
});
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
});

const TOOLS = [{ type: 'function' as const, function: { name: 'note', parameters: { type: 'object', properties: { note: { type: 'string' } } } } }];

function sentToCloud(): string {
  return JSON.stringify(cloud.requests.map((r) => r.body));
}

describe('masked-then-unmasked streams equal the original', () => {
  it('for random texts and random chunkings: content and tool-call arguments, through the openai SDK', async () => {
    let splitRuns = 0;
    await fc.assert(
      fc.asyncProperty(message, chunking, async (text, c) => {
        cuts = c;
        cloud.reset();
        const stream = await gw.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: text }] });
        let content = '';
        let events = 0;
        for await (const chunk of stream) {
          content += chunk.choices[0]?.delta.content ?? '';
          events++;
        }
        expect(content).toBe(`echo: ${text}`);
        if (events > 3) splitRuns++;

        const tools = await gw.client.chat.completions.create({
          model: 'm',
          stream: true,
          tools: TOOLS,
          messages: [{ role: 'user', content: text }],
        });
        let args = '';
        for await (const chunk of tools) for (const t of chunk.choices[0]?.delta.tool_calls ?? []) args += t.function?.arguments ?? '';
        expect(args).toBe(JSON.stringify({ note: text }));
        expect(JSON.parse(args)).toEqual({ note: text });

        // Nothing the detectors find ever reached the cloud.
        const sent = sentToCloud();
        for (const s of SECRETS) expect(sent).not.toContain(s);
      }),
      { numRuns: 40, seed: SEED },
    );
    // The property really exercised split streams, not only one-chunk answers.
    expect(splitRuns).toBeGreaterThan(10);
  }, 180_000);

  it('splits a placeholder at every position of the stream and still restores it', async () => {
    const text = 'write to jane.doe@example.com now';
    const answer = 'echo: write to [REDACTED:email:1] now';
    for (let i = 1; i < answer.length; i++) {
      cuts = [i / answer.length, (i + 1) / answer.length];
      const stream = await gw.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: text }] });
      let content = '';
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
      expect(content).toBe(`echo: ${text}`);
    }
    expect(sentToCloud()).toContain('[REDACTED:email:1]');
  }, 120_000);

  it('non-streamed answers: content and tool-call arguments, values escaped as JSON inside arguments', async () => {
    cuts = [0.5];
    const text = 'mail "jane.doe@example.com" and sk-abcdefghijklmnopqrstuvwx1234 then jane.doe@example.com';
    const r = await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: text }] });
    expect(r.choices[0]!.message.content).toBe(`echo: ${text}`);
    const t = await gw.client.chat.completions.create({ model: 'm', tools: TOOLS, messages: [{ role: 'user', content: text }] });
    const call = t.choices[0]!.message.tool_calls?.[0];
    expect(call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined).toEqual({ note: text });
    // The same value got the same placeholder both times it appeared.
    const sent = JSON.stringify(cloud.requests.at(-1)!.body);
    expect(sent).toContain('mail \\"[REDACTED:email:1]\\" and [REDACTED:api_key:2] then [REDACTED:email:1]');
  });
});

describe('the other fronts stream unmasked answers', () => {
  it('/v1/responses (openai SDK) and /v1/messages (@anthropic-ai/sdk), with placeholders split across chunks', async () => {
    const text = 'contact jane.doe@example.com or bob@corp.example.org';
    for (const c of [[0.1, 0.33, 0.34, 0.5, 0.51, 0.52, 0.7, 0.9], [0.05, 0.6], []]) {
      cuts = c;
      const stream = await gw.client.responses.create({ model: 'm', input: text, stream: true });
      let out = '';
      for await (const ev of stream) if (ev.type === 'response.output_text.delta') out += ev.delta;
      expect(out).toBe(`echo: ${text}`);

      const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
      const ms = anthropic.messages.stream({ model: 'm', max_tokens: 64, messages: [{ role: 'user', content: text }] });
      let said = '';
      for await (const ev of ms) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') said += ev.delta.text;
      expect(said).toBe(`echo: ${text}`);
    }
    const sent = sentToCloud();
    expect(sent).not.toContain('jane.doe@example.com');
    expect(sent).toContain('[REDACTED:email:2]');
  });
});

describe('tool calls through the other fronts are unmasked', () => {
  it('/v1/messages tool_use input (streamed) and /v1/responses function_call arguments', async () => {
    const text = 'note that "jane.doe@example.com" paid with 4111 1111 1111 1111';
    for (const c of [[0.2, 0.41, 0.42, 0.6, 0.8], []]) {
      cuts = c;
      const anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
      const ms = anthropic.messages.stream({
        model: 'm',
        max_tokens: 64,
        tools: [{ name: 'note', input_schema: { type: 'object', properties: { note: { type: 'string' } } } }],
        tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: text }],
      });
      const final = await ms.finalMessage();
      const use = final.content.find((b) => b.type === 'tool_use');
      expect(use?.type === 'tool_use' ? use.input : undefined).toEqual({ note: text });

      const r = await gw.client.responses.create({
        model: 'm',
        input: text,
        tools: [{ type: 'function', name: 'note', parameters: { type: 'object', properties: { note: { type: 'string' } } }, strict: false }],
      });
      const call = r.output.find((o) => o.type === 'function_call');
      expect(call?.type === 'function_call' ? JSON.parse(call.arguments) : undefined).toEqual({ note: text });
    }
    const sent = sentToCloud();
    expect(sent).not.toContain('jane.doe@example.com');
    expect(sent).not.toContain('4111 1111');
  });
});
