/**
 * OpenTelemetry traces through the real gateway to a loopback OTLP/HTTP collector: one SERVER span per request with
 * the GenAI attributes and the decision, a CLIENT span per upstream attempt (first, retry, fallback), the client's
 * traceparent continued and each attempt's traceparent sent upstream. Without `tracing:`, nothing is sent upstream.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import { startOtlpCollector, type CollectedSpan } from './otlp-collector.js';

const SERVER = 2;
const CLIENT = 3;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

let collector: Awaited<ReturnType<typeof startOtlpCollector>>;
let down: FakeOpenAI;
let cloud: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  collector = await startOtlpCollector();
  down = await startFakeOpenAI();
  down.setFault({ status: 503 });
  cloud = await startFakeOpenAI();
  const file = join(mkdtempSync(join(tmpdir(), 'sy-traces-')), 'policy.yaml');
  writeFileSync(
    file,
    'version: 1\ntags:\n  internal: { route: cloud, upstreams: [down, cloud] }\nrules:\n  - id: failover\n    match: { models: [m] }\n    route: [down, cloud]\n',
  );
  gw = await startTestGateway({
    policies: { file },
    resilience: { retries: 1, backoff_base_ms: 1, backoff_max_ms: 5 },
    tracing: { otlp_endpoint: collector.url, service_name: 'switchyard-test', export_interval_ms: 100 },
    upstreams: [
      { id: 'down', url: down.url, models: ['m'] },
      { id: 'cloud', url: cloud.url, models: ['m'] },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await down?.close();
  await cloud?.close();
  await collector?.close();
});

const ofTrace = (traceId: string) => collector.spans.filter((s) => s.traceId === traceId);

describe('OpenTelemetry traces', () => {
  it('a request span with GenAI and decision attributes, attempt spans for retry and fallback, traceparent in and out', async () => {
    const r = await gw.client.chat.completions.create(
      { model: 'm', messages: [{ role: 'user', content: 'hello traces' }] },
      { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, 'x-switchyard-tags': 'internal' } },
    );
    expect(r.choices[0]!.message.content).toBe('echo: hello traces');
    await waitUntil(() => ofTrace(TRACE_ID).length >= 4, { message: 'spans exported' });
    const spans = ofTrace(TRACE_ID);
    const request = spans.find((s) => s.kind === SERVER)!;
    expect(request.parentSpanId).toBe(PARENT_ID);
    expect(request.name).toBe('chat m');
    expect(request.service).toBe('switchyard-test');
    expect(request.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'm',
      'gen_ai.response.model': 'm',
      'gen_ai.usage.input_tokens': r.usage!.prompt_tokens,
      'gen_ai.usage.output_tokens': r.usage!.completion_tokens,
      'switchyard.rule': 'failover',
      'switchyard.data_classes': ['internal'],
      'switchyard.zone': 'cloud',
      'switchyard.cache': 'bypass',
      'switchyard.upstream': 'cloud',
      'switchyard.fallback': true,
      'http.response.status_code': 200,
    });
    expect(String(request.attributes['switchyard.policy.version'])).toMatch(/\w+/);

    const attempts = spans.filter((s) => s.kind === CLIENT);
    expect(attempts.map((a) => [a.attributes['switchyard.upstream'], a.attributes['switchyard.attempt.kind']])).toEqual([
      ['down', 'first'],
      ['down', 'retry'],
      ['cloud', 'fallback'],
    ]);
    for (const a of attempts) expect(a.parentSpanId).toBe(request.spanId);
    expect(attempts[0]!.attributes['error.type']).toMatch(/^upstream_/);
    expect(attempts[0]!.attributes['http.response.status_code']).toBeGreaterThanOrEqual(500);
    expect(attempts[0]!.status?.code).toBe(2); // ERROR

    // Each upstream got the traceparent of its own attempt span.
    const sent = (f: FakeOpenAI) => f.requests.map((q) => q.headers['traceparent']);
    expect(sent(down)).toEqual(attempts.slice(0, 2).map((a) => `00-${TRACE_ID}-${a.spanId}-01`));
    expect(sent(cloud)).toEqual([`00-${TRACE_ID}-${attempts[2]!.spanId}-01`]);
  });

  it('a streamed request gets its usage on the span; a request without traceparent starts its own trace', async () => {
    down.clearFault();
    const stream = await gw.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
    for await (const _ of stream) void _;
    // The fault is cleared, so the first destination answered.
    const traceId = String(down.requests.at(-1)?.headers['traceparent']).split('-')[1]!;
    let request: CollectedSpan | undefined;
    await waitUntil(() => (request = ofTrace(traceId).find((s) => s.kind === SERVER)) !== undefined, { message: 'stream span exported' });
    expect(request!.parentSpanId ?? '').toBe('');
    expect(request!.attributes['switchyard.stream']).toBe(true);
    expect(request!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(collector.contentTypes.every((t) => t.includes('application/json'))).toBe(true);
  });
});

describe('tracing off', () => {
  it('sends no traceparent upstream', async () => {
    const plain = await startTestGateway({ upstreams: [{ id: 'cloud', url: cloud.url, models: ['m'] }] });
    try {
      await plain.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      expect(cloud.requests.at(-1)!.headers['traceparent']).toBeUndefined();
    } finally {
      await plain.shutdown();
    }
  });
});
