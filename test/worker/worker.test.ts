/**
 * The gateway as a Cloudflare Worker, run in workerd by `wrangler dev` on 127.0.0.1 (offline), called with the official
 * `openai` SDK. The Worker reaches the Node fakes on loopback: `cloud` (zone cloud), `edge` (a remote edge server, zone
 * edge) and `dead` (a port nobody listens on).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { APIError, AuthenticationError, NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { freePort } from '../helpers/free-port.js';
import { waitUntil } from '../helpers/wait.js';
import { ROOT, startWranglerDev, type WranglerDev } from './wrangler-dev.js';

const KEY = 'sk-sy-worker-test-key';
const CLOUD_SECRET = 'cloud-upstream-secret';

let cloud: FakeOpenAI;
let edge: FakeOpenAI;
let worker: WranglerDev;
let client: OpenAI;

const POLICY = `version: 1
tags:
  pii: { route: edge-only }
rules:
  - id: everything
    route: [cloud, edge, dead]
`;

beforeAll(async () => {
  cloud = await startFakeOpenAI({ reply: 'from the cloud', chunks: 4 });
  edge = await startFakeOpenAI({ reply: 'from the edge', chunks: 3 });
  const deadPort = await freePort();
  const config = {
    upstreams: [
      { id: 'cloud', url: cloud.url, zone: 'cloud', api_key: '${CLOUD_KEY}', models: ['gpt-4o-mini'] },
      { id: 'edge', url: edge.url, zone: 'edge', models: ['gpt-4o-mini'] },
      { id: 'dead', url: `http://127.0.0.1:${deadPort}/v1`, zone: 'cloud', models: ['dead-model'], timeouts: { connect_ms: 2000 } },
    ],
    keys: [{ id: 'tester', sha256: createHash('sha256').update(KEY).digest('hex') }],
    resilience: { retries: 0, breaker: { volume_threshold: 2, error_threshold_pct: 50, reset_ms: 600_000 } },
    logging: { level: 'warn' },
    // One entry near (in the isolate) so the cache test can see the far tier (the Workers Cache API) answer.
    cache: { max_entries: 1 },
  };
  // JSON is YAML: the config var holds the same document a Node config file would.
  worker = await startWranglerDev({
    SWITCHYARD_CONFIG: JSON.stringify(config),
    SWITCHYARD_POLICY: POLICY,
    SWITCHYARD_SHARED_CACHE: 'cache-api',
    CLOUD_KEY: CLOUD_SECRET,
  });
  console.log(`wrangler dev cold start to first answer: ${worker.coldStartMs} ms`);
  client = new OpenAI({ apiKey: KEY, baseURL: `${worker.url}/v1`, maxRetries: 0, timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await Promise.all([cloud?.close(), edge?.close()]);
});

const chatsReaching = (f: FakeOpenAI) => f.requests.filter((r) => r.path === '/chat/completions');
// Counted by content: in a parallel run another test's gateway can dial a port this fake was given after they freed it.
const asked = (f: FakeOpenAI, text: string) => chatsReaching(f).filter((r) => JSON.stringify(r.body).includes(text)).length;

describe('the Worker in workerd', () => {
  it('runs on the compatibility date wrangler.toml declares (the bundled workerd accepts it, no fallback)', () => {
    const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
    const date = /^compatibility_date\s*=\s*"(\d{4}-\d{2}-\d{2})"/m.exec(toml)?.[1];
    const workerd = (JSON.parse(readFileSync(join(ROOT, 'node_modules/workerd/package.json'), 'utf8')) as { version: string }).version;
    const m = /^1\.(\d{4})(\d{2})(\d{2})\./.exec(workerd);
    expect(date).toBeDefined();
    expect(m).not.toBeNull();
    expect(date! <= `${m![1]}-${m![2]}-${m![3]}`).toBe(true);
    expect(worker.output()).not.toContain('The latest compatibility date supported by');
    expect(toml).not.toMatch(/^compatibility_flags\s*=.*nodejs_compat/m);
  });

  it('answers a chat completion through the openai SDK, with the secret read from a binding', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello worker' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from the cloud');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-route')).toBe('cloud');
    const seen = chatsReaching(cloud).at(-1);
    expect(seen?.headers['authorization']).toBe(`Bearer ${CLOUD_SECRET}`);
  });

  it('streams a chat completion event by event, usage included when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream please' }],
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('from the cloud');
    expect(chunks).toBeGreaterThanOrEqual(4);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('a client going away mid-stream cancels the upstream request (at the next chunk: workerd notices on write)', async () => {
    // 6 events 400 ms apart: a stream that would run ~2.4 s if nobody cancelled it.
    cloud.setFault({ chunkDelayMs: 400, times: 1 });
    const abortedBefore = cloud.aborted;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'abort me' }] },
      { signal: controller.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    controller.abort();
    await waitUntil(() => cloud.aborted > abortedBefore, { timeoutMs: 20_000, message: 'the upstream request was not cancelled' });
    await waitUntil(() => cloud.inFlight === 0, { timeoutMs: 10_000 });
    expect(asked(cloud, 'abort me')).toBe(1);
  });

  it('keeps a request the policy tags pii on the edge: the cloud never sees it, streaming or not', async () => {
    const secret = 'write to jane.doe@example.com about invoice 4411';
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: secret }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('from the edge');
    expect(response.headers.get('x-switchyard-route')).toBe('edge');
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'tagged by header only' }] },
      { headers: { 'x-switchyard-tags': 'pii' } },
    );
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('from the edge');
    // While the edge is down the tagged request is refused rather than sent to the cloud.
    edge.setFault({ status: 503 });
    const refused = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: secret }] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    edge.clearFault();
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBeGreaterThanOrEqual(500);
    expect(asked(edge, 'jane.doe@example.com')).toBe(2);
    expect(JSON.stringify(cloud.requests)).not.toContain('jane.doe@example.com');
    expect(JSON.stringify(cloud.requests)).not.toContain('tagged by header only');
  });

  it('opens the breaker on a dead upstream: refused connections, then circuit open without calling it', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const err = await client.chat.completions.create({ model: 'dead-model', messages: [{ role: 'user', content: `try ${i}` }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(APIError);
      expect((err as APIError).status).toBe(503);
      codes.push(String((err as APIError).code));
    }
    expect(codes.slice(0, 2)).toEqual(['upstream_unavailable', 'upstream_unavailable']);
    expect(codes.slice(2)).toEqual(['upstream_circuit_open', 'upstream_circuit_open']);
  });

  it('answers repeated deterministic requests from the cache: the isolate LRU, then the shared Cache API tier', async () => {
    const ask = (content: string) =>
      client.chat.completions.create({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content }] }).withResponse();
    const first = await ask('cache me on the worker');
    const again = await ask('cache me on the worker');
    expect(first.response.headers.get('x-switchyard-cache')).toBe('miss');
    expect(again.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(again.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(asked(cloud, 'cache me on the worker')).toBe(1);
    // A second question takes the isolate's only slot; the first is then answered by the Cache API tier.
    expect((await ask('another cacheable question')).response.headers.get('x-switchyard-cache')).toBe('miss');
    const far = await ask('cache me on the worker');
    expect(far.response.headers.get('x-switchyard-cache')).toBe('hit');
    expect(far.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(asked(cloud, 'cache me on the worker')).toBe(1);
    expect(asked(cloud, 'another cacheable question')).toBe(1);
  });

  it('answers errors in the OpenAI shape with the right status', async () => {
    const badKey = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${worker.url}/v1`, maxRetries: 0 });
    const auth = await badKey.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(AuthenticationError);
    expect((auth as APIError).code).toBe('invalid_api_key');
    const missing = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as APIError).code).toBe('model_not_found');
    const res = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: '{"model": "gpt-4o-mini", "messages": [',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_json' } });
  });

  it('writes one record per request as a log line', async () => {
    type Logged = { switchyard_record: { id: string; zone: string | null; tags: string[]; status: number } };
    const records = () =>
      worker
        .output()
        .split('\n')
        .filter((l) => l.includes('"switchyard_record"'))
        .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Logged);
    // Every inference request above leaves one record, the bad key (401) and the invalid JSON (400) included;
    // wrangler relays with a lag.
    await waitUntil(() => records().length >= 17, { timeoutMs: 20_000, message: `records so far: ${records().length}` });
    expect(records().length).toBe(17);
    expect(new Set(records().map((r) => r.switchyard_record.id)).size).toBe(17);
    expect(records().filter((r) => r.switchyard_record.status === 401)).toHaveLength(1);
    expect(records().some((r) => r.switchyard_record.zone === 'device' && r.switchyard_record.tags.includes('pii'))).toBe(true);
    // The stream the client abandoned is accounted too (worker.ts keeps the request alive long enough to record it).
    expect(records().filter((r) => r.switchyard_record.status === 499)).toHaveLength(1);
  });
});
