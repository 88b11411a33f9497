/**
 * Secrets planted in every text-bearing field, through the real gateway with the real SDK: PII anywhere keeps the
 * request on the edge (the cloud fake never sees it), private-key blocks of every kind are masked whole before the
 * cloud, and tags are case-insensitive.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { privateKeyBlocks } from './private-key-blocks.js';

const EMAIL = 'planted.person@example.org';
let edge: FakeOpenAI;
let cloud: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  edge = await startFakeOpenAI({ reply: 'edge answer' });
  cloud = await startFakeOpenAI({ reply: 'cloud answer' });
  const file = join(mkdtempSync(join(tmpdir(), 'sy-planted-')), 'policy.yaml');
  writeFileSync(
    file,
    [
      'version: 1',
      'tags:',
      '  PII: { route: edge-only }',
      '  secret: { route: redact }',
      'rules:',
      '  - id: cloud-first',
      '    route: [cloud, edge]',
      '',
    ].join('\n'),
  );
  gw = await startTestGateway({
    policies: { file },
    upstreams: [
      { id: 'edge', url: edge.url, zone: 'edge', models: ['m'] },
      { id: 'cloud', url: cloud.url, models: ['m'] },
    ],
  });
}, 60_000);
afterAll(async () => {
  await gw?.shutdown();
  await edge?.close();
  await cloud?.close();
});

const client = () => new OpenAI({ baseURL: gw.baseURL, apiKey: 'unused', maxRetries: 0 });
const user = (content: string) => ({ role: 'user' as const, content });
const fn = (description: string, paramDescription = 'a city') => ({
  type: 'function' as const,
  function: { name: 'lookup', description, parameters: { type: 'object', properties: { q: { type: 'string', description: paramDescription } } } },
});

type ChatBody = Parameters<OpenAI['chat']['completions']['create']>[0];
const chatCases: Array<[string, Partial<ChatBody>]> = [
  ['user', { user: EMAIL }],
  ['tools[].function.description', { tools: [fn(`mail ${EMAIL}`)] }],
  ['tool parameter description', { tools: [fn('lookup', `the email ${EMAIL}`)] }],
  ['prediction.content', { prediction: { type: 'content', content: `Dear ${EMAIL}` } }],
  ['metadata value', { metadata: { owner: EMAIL }, store: false }],
  [
    'response_format schema',
    { response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', description: `for ${EMAIL}` } } } },
  ],
  [
    'tool result',
    {
      messages: [
        user('who?'),
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: `found ${EMAIL}` },
      ],
    },
  ],
  [
    'assistant tool-call arguments',
    {
      messages: [
        user('who?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: `{"q":"${EMAIL}"}` } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'none' },
      ],
    },
  ],
  ['full-width and zero-width variants', { messages: [user('mail planted.person@exa\u200bmple.org, card ４１１１ １１１１ １１１１ １１１１')] }],
];

describe('PII in any text-bearing field stays on the edge', () => {
  it.each(chatCases)('%s', async (_field, extra) => {
    cloud.reset();
    edge.reset();
    await client().chat.completions.create({ model: 'm', messages: [user('hello')], ...extra } as ChatBody);
    // The edge answered (the fakes answer tool offers with a tool call, so who answered is read off their logs).
    expect(edge.requests).toHaveLength(1);
    expect(cloud.requests).toEqual([]);
  });

  it('completions suffix', async () => {
    cloud.reset();
    const r = await client().completions.create({ model: 'm', prompt: 'Dear', suffix: `regards, ${EMAIL}` });
    expect(r.choices[0]!.text).toBe('edge answer');
    expect(cloud.requests).toEqual([]);
  });

  it('tags are case-insensitive: header PII / pii / Pii all equal the policy tag PII', async () => {
    for (const tag of ['PII', 'pii', 'Pii']) {
      cloud.reset();
      const r = await client().chat.completions.create({ model: 'm', messages: [user('hello')] }, { headers: { 'x-switchyard-tags': tag } });
      expect(r.choices[0]!.message.content).toBe('edge answer');
      expect(cloud.requests).toEqual([]);
    }
  });
});

describe('private keys are masked whole before the cloud', () => {
  it.each(privateKeyBlocks())('%s in a message and a tool description', async (_kind, block) => {
    cloud.reset();
    const r = await client().chat.completions.create({
      model: 'm',
      messages: [user(`why does this fail?\n${block}`)],
      tools: [fn(`uses ${block}`)],
    });
    expect(r.choices[0]!.message.content ?? r.choices[0]!.message.tool_calls?.[0]?.id).toBeTruthy();
    expect(cloud.requests).toHaveLength(1); // redacted, it may go to the cloud
    const sent = JSON.stringify(cloud.requests.map((q) => q.body));
    expect(sent).toContain('[REDACTED:private_key]');
    expect(sent).not.toContain('PRIVATE KEY');
    for (const line of block.trim().split('\n').slice(1)) if (line.length >= 8) expect(sent).not.toContain(line);
  });
});
