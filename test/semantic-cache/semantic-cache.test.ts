/**
 * The semantic cache through the gateway with the official openai SDK: an edge embedding model (the hashed
 * bag-of-words encoder, built by our code), the fake cloud as the answering upstream, entries in a real Redis.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { writeHashedEncoderFolder } from '../../edge-runtime/index.js';

const WORDS = 'population france spain capital status migration weather paris tomorrow'.split(' ');
const POLICY = `version: 1
detectors:
  - { name: project_code, pattern: "PRJ-\\\\d{4}", tag: internal }
tags:
  internal: { route: cloud, upstreams: [cloud] }
rules:
  - id: semantic
    match: { models: [gpt-x] }
    route: [cloud]
    cache: { enabled: true, semantic: { embedding_model: bow-embed, threshold: 0.9 } }
  - id: semantic-tagged
    match: { models: [gpt-t] }
    route: [cloud]
    cache: { enabled: true, semantic: { embedding_model: bow-embed, threshold: 0.9, tagged: true } }
  - id: exact-only
    match: { models: [gpt-plain] }
    route: [cloud]
    cache: { enabled: true }
`;

let cloud: FakeOpenAI;
let redis: TestRedis;
let gw: TestGateway;
let dir: string;
let tenantA: OpenAI;
let tenantB: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-semantic-'));
  await writeHashedEncoderFolder(join(dir, 'bow'), WORDS);
  await writeFile(join(dir, 'policy.yaml'), POLICY);
  cloud = await startFakeOpenAI();
  redis = await startRedis();
  gw = await startTestGateway({
    keys: [
      { id: 'a', sha256: await sha256Hex('key-a'), tenant: 'tenant-a' },
      { id: 'b', sha256: await sha256Hex('key-b'), tenant: 'tenant-b' },
    ],
    redis: { url: redis.url },
    cache: { backend: 'redis' },
    policies: { file: join(dir, 'policy.yaml') },
    upstreams: [{ id: 'cloud', url: cloud.url, models: ['gpt-x', 'gpt-t', 'gpt-plain'] }],
    edge: { enabled: true, models: [{ id: 'bow-embed', path: join(dir, 'bow'), task: 'embeddings' }] },
  });
  tenantA = new OpenAI({ baseURL: gw.baseURL, apiKey: 'key-a', maxRetries: 0, timeout: 30_000 });
  tenantB = new OpenAI({ baseURL: gw.baseURL, apiKey: 'key-b', maxRetries: 0, timeout: 30_000 });
}, 120_000);
afterAll(async () => {
  await gw?.shutdown();
  await cloud?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ask = (client: OpenAI, model: string, content: string) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content }], temperature: 0 }).withResponse();
const chatCalls = () => cloud.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

describe('semantic cache', () => {
  it('a paraphrase is answered from the cache with its similarity; a near miss (other entity) goes upstream', async () => {
    const first = await ask(tenantA, 'gpt-x', 'What is the population of France?');
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    const before = chatCalls();
    const para = await ask(tenantA, 'gpt-x', 'Could you tell me the population of France, please?');
    expect(para.response.headers.get('x-switchyard-cache')).toBe('semantic-hit');
    expect(Number(para.response.headers.get('x-switchyard-cache-similarity'))).toBeGreaterThanOrEqual(0.9);
    expect(para.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
    expect(chatCalls()).toBe(before);
    const near = await ask(tenantA, 'gpt-x', 'What is the population of Spain?');
    expect(near.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(near.data.choices[0]!.message.content).toContain('Spain');
    expect(chatCalls()).toBe(before + 1);
  });

  it('a streamed paraphrase replays the cached answer as chunks', async () => {
    const stream = await tenantA.chat.completions
      .create({ model: 'gpt-x', messages: [{ role: 'user', content: 'population of France?' }], temperature: 0, stream: true })
      .withResponse();
    expect(stream.response.headers.get('x-switchyard-cache')).toBe('semantic-hit');
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('echo: What is the population of France?');
  });

  it('never across tenants: the same paraphrase from another tenant goes upstream', async () => {
    const before = chatCalls();
    const b = await ask(tenantB, 'gpt-x', 'Could you tell me the population of France, please?');
    expect(b.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(b.data.choices[0]!.message.content).toBe('echo: Could you tell me the population of France, please?');
    expect(chatCalls()).toBe(before + 1);
  });

  it('tagged content is excluded unless the rule opts in', async () => {
    await ask(tenantA, 'gpt-x', 'What is the status of the migration PRJ-1234?');
    const tagged = await ask(tenantA, 'gpt-x', 'Please tell me the status of the migration PRJ-1234.');
    expect(tagged.response.headers.get('x-switchyard-cache')).toBe('miss');
    await ask(tenantA, 'gpt-t', 'What is the status of the migration PRJ-1234?');
    const optedIn = await ask(tenantA, 'gpt-t', 'Please tell me the status of the migration PRJ-1234.');
    expect(optedIn.response.headers.get('x-switchyard-cache')).toBe('semantic-hit');
  });

  it('a rule without `semantic` answers only exact repeats from the cache', async () => {
    await ask(tenantA, 'gpt-plain', 'What is the weather in Paris tomorrow?');
    const para = await ask(tenantA, 'gpt-plain', 'Tell me the weather in Paris tomorrow, please.');
    expect(para.response.headers.get('x-switchyard-cache')).toBe('miss');
    const same = await ask(tenantA, 'gpt-plain', 'What is the weather in Paris tomorrow?');
    expect(same.response.headers.get('x-switchyard-cache')).toBe('hit');
  });

  it('prompts never left the host for embeddings, and the answers live in Redis', async () => {
    expect(cloud.requests.some((r) => r.path.includes('embeddings'))).toBe(false);
    const client = new Redis(redis.url);
    try {
      expect(await client.dbsize()).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });
});
