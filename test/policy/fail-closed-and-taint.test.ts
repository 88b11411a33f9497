/**
 * Detector fail-closed, session taint on a real Redis shared by two gateways, and zone vocabulary errors that name
 * file:line and field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, parseYamlFile } from '../../gateway/config/load-config.js';
import { upstreamSchema } from '../../gateway/config/schema.js';
import { inferenceRequestFromBody } from '../../gateway/core/inference-request.js';
import { ModelCatalog } from '../../gateway/core/model-catalog.js';
import { ANONYMOUS } from '../../gateway/core/principal.js';
import { mayReach } from '../../gateway/core/zones.js';
import { compilePolicy } from '../../gateway/policy/compile-policy.js';
import { PolicyRouter } from '../../gateway/policy/policy-router.js';
import { policySchema } from '../../gateway/policy/policy-schema.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitUntil } from '../helpers/wait.js';

describe('zone vocabulary', () => {
  it('one rule decides: device (alias edge), on-prem, named regions and region:*, cloud', () => {
    expect(mayReach([{ dataClass: 'pii', zones: ['device', 'region:*'] }], 'region:eu-west')).toBe(true);
    expect(mayReach([{ dataClass: 'pii', zones: ['device', 'region:*'] }], 'cloud')).toBe(false);
    expect(mayReach([{ dataClass: 'pii', zones: ['region:eu-west'] }], 'region:us-east')).toBe(false);
    // Every class must admit the zone.
    expect(
      mayReach(
        [
          { dataClass: 'pii', zones: ['device', 'on-prem'] },
          { dataClass: 'secret', zones: ['device'] },
        ],
        'on-prem',
      ),
    ).toBe(false);
    expect(upstreamSchema.parse({ id: 'e', url: 'http://127.0.0.1:9/v1', zone: 'edge', models: ['m'] }).zone).toBe('device');
  });

  it('a bad zone names file:line and field, in config and in policy', () => {
    const cfg = 'upstreams:\n  - id: a\n    url: http://127.0.0.1:9/v1\n    zone: mars\n    models: [m]\n';
    expect(() => parseConfig(cfg, 'gw.yaml', {})).toThrow(/gw\.yaml:4: upstreams\[0\]\.zone: unknown zone 'mars'/);
    const pol = 'version: 1\ntags:\n  pii:\n    zones: [device, moon]\n';
    expect(() => parseYamlFile(pol, 'p.yaml', policySchema)).toThrow(/p\.yaml:4: tags\.pii\.zones\[1\]: unknown zone 'moon'/);
  });
});

describe('detector fail-closed', () => {
  const ups = [
    new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'dev', url: 'http://127.0.0.1:9/v1', zone: 'device', models: ['m'] })),
    new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'cloud', url: 'http://127.0.0.1:9/v1', models: ['m'] })),
  ];
  afterAll(async () => Promise.all(ups.map((u) => u.close())));
  const catalog = new ModelCatalog(ups);
  const policy = (detection: object, scanner?: () => never | []) =>
    compilePolicy(
      policySchema.parse({
        version: 1,
        detection,
        tags: { pii: { zones: ['device'] }, secret: { route: 'redact' }, internal: { zones: ['device'] } },
        detectors: [{ name: 'project', pattern: 'ACME-\\d+', tag: 'internal' }],
        rules: [{ id: 'all', route: ['cloud', 'dev'] }],
      }),
      'v',
      catalog,
      undefined,
      scanner ? { scanner } : {},
    );
  const decide = (p: ReturnType<typeof policy>) =>
    p.decide({
      request: inferenceRequestFromBody({ model: 'm', messages: [{ role: 'user', content: 'nothing sensitive' }] }),
      headers: new Headers(),
      principal: ANONYMOUS,
    });

  it('a detector that throws: the request carries pii and secret (defaults) and stays on the device', () => {
    let calls = 0;
    const d = decide(
      policy({}, () => {
        if (calls++ === 0) return []; // the warm-up at compile time
        throw new Error('detector crashed');
      }),
    );
    expect(d.tags).toEqual(expect.arrayContaining(['pii', 'secret']));
    expect(d.tags).not.toContain('internal'); // not configured to fail closed
    expect(d.candidates.map((c) => c.upstream.id)).toEqual(['dev']);
    expect(d.audit?.failedClosed).toEqual(expect.arrayContaining(['pii', 'secret']));
    expect(d.trace.join('\n')).toMatch(/detection failed closed \(detectors threw \(detector crashed\)\)/);
    // A secret that should have been redacted cannot be: it stays on the device too.
    expect(d.zoneLimits?.map((l) => l.dataClass).sort()).toEqual(['pii', 'secret']);
  });

  it('a turn held on the device only because detection failed does not taint its session', async () => {
    let failing = false;
    const text = [
      'version: 1',
      'tags:',
      '  pii: { zones: [device] }',
      'taint: { ttl_seconds: 60 }',
      'rules:',
      '  - id: all',
      '    route: [cloud, dev]',
      '',
    ].join('\n');
    const router = await PolicyRouter.create(text, 'policy.yaml', catalog, undefined, {
      scanner: () => {
        if (failing) throw new Error('detector crashed');
        return [];
      },
    });
    const turn = async (content: string) =>
      router.decide({
        request: inferenceRequestFromBody({ model: 'm', messages: [{ role: 'user', content }] }),
        headers: new Headers({ 'x-switchyard-session': 'chat-9' }),
        principal: ANONYMOUS,
      });
    failing = true;
    const held = await turn('first turn');
    expect(held.audit?.failedClosed).toContain('pii');
    expect(held.candidates.map((c) => c.upstream.id)).toEqual(['dev']);
    failing = false;
    const next = await turn('second turn, detection works');
    expect(next.tags).not.toContain('pii');
    expect(next.candidates.map((c) => c.upstream.id)).toEqual(['cloud', 'dev']);
  });

  it('classes configured so fail closed, others do not', () => {
    let calls = 0;
    const d = decide(
      policy({ fail_closed: ['internal'] }, () => {
        if (calls++ === 0) return [];
        throw new Error('boom');
      }),
    );
    expect(d.tags).toEqual(['internal']);
    expect(d.candidates.map((c) => c.upstream.id)).toEqual(['dev']);
  });

  it('without the guard failing, the same request goes to the cloud first (the control)', () => {
    const d = decide(policy({}));
    expect(d.tags).toEqual([]);
    expect(d.candidates.map((c) => c.upstream.id)).toEqual(['cloud', 'dev']);
  });

  it('through the gateway: a detector over its time budget keeps the request off the cloud, and the record says why', async () => {
    const dev = await startFakeOpenAI({ reply: 'from dev' });
    const cloud = await startFakeOpenAI({ reply: 'from cloud' });
    const dir = mkdtempSync(join(tmpdir(), 'sy-failclosed-'));
    const file = join(dir, 'policy.yaml');
    // A custom pattern with catastrophic backtracking: hundreds of ms on a short run of a's, far over 20 ms.
    writeFileSync(
      file,
      [
        'version: 1',
        'detection: { budget_ms: 20, fail_closed: [pii, slow] }',
        "detectors: [{ name: 'backtracks', pattern: '(a|a)+$', tag: slow }]",
        'tags:',
        '  slow: { zones: [device] }',
        'rules:',
        '  - id: all',
        '    route: [cloud, dev]',
        '',
      ].join('\n'),
    );
    const gw = await startTestGateway({
      policies: { file },
      records: { sink: 'jsonl', dir: join(dir, 'records') },
      upstreams: [
        { id: 'dev', url: dev.url, zone: 'device', models: ['m'] },
        { id: 'cloud', url: cloud.url, zone: 'cloud', models: ['m'] },
      ],
    });
    try {
      const fast = await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
      expect(fast.response.headers.get('x-switchyard-route')).toBe('cloud');
      const slow = await gw.client.chat.completions
        .create({ model: 'm', messages: [{ role: 'user', content: `x ${'a'.repeat(22)}! marker-slow` }] })
        .withResponse();
      expect(slow.response.headers.get('x-switchyard-route')).toBe('dev');
      expect(JSON.stringify(cloud.requests)).not.toContain('marker-slow');
      expect(JSON.stringify(dev.requests)).toContain('marker-slow');
    } finally {
      await gw.shutdown();
      await dev.close();
      await cloud.close();
    }
  }, 60_000);
});

describe('session taint on Redis, shared by two gateways', () => {
  let redis: TestRedis;
  let dev: FakeOpenAI;
  let cloud: FakeOpenAI;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    redis = await startRedis();
    dev = await startFakeOpenAI({ reply: 'from dev' });
    cloud = await startFakeOpenAI({ reply: 'from cloud' });
    const file = join(mkdtempSync(join(tmpdir(), 'sy-taint-')), 'policy.yaml');
    writeFileSync(
      file,
      'version: 1\ntags:\n  pii: { route: edge-only }\ntaint: { ttl_seconds: 2 }\nrules:\n  - id: cloud-first\n    route: [cloud, dev]\n',
    );
    const cfg = {
      policies: { file },
      redis: { url: redis.url },
      upstreams: [
        { id: 'dev', url: dev.url, zone: 'edge', models: ['m'] },
        { id: 'cloud', url: cloud.url, models: ['m'] },
      ],
    };
    a = await startTestGateway(cfg);
    b = await startTestGateway(cfg);
  }, 60_000);
  afterAll(async () => {
    await a?.shutdown();
    await b?.shutdown();
    await dev?.close();
    await cloud?.close();
    await redis?.stop();
  });

  const turn = async (gw: TestGateway, content: string, opts: { session?: string; user?: string; history?: string } = {}) => {
    const messages = [
      ...(opts.history
        ? [
            { role: 'user' as const, content: opts.history },
            { role: 'assistant' as const, content: 'noted' },
          ]
        : []),
      { role: 'user' as const, content },
    ];
    const r = await gw.client.chat.completions
      .create(
        { model: 'm', messages, ...(opts.user ? { user: opts.user } : {}) },
        { headers: opts.session ? { 'x-switchyard-session': opts.session } : {} },
      )
      .withResponse();
    return r.response.headers.get('x-switchyard-route');
  };

  it('a later turn without the tag stays on the device, on either replica, until the TTL passes', async () => {
    expect(await turn(a, 'my mail is pat@example.com', { session: 's1' })).toBe('dev');
    // Turn two has no e-mail in it, and lands on the other gateway.
    expect(await turn(b, 'and what about the appointment?', { session: 's1' })).toBe('dev');
    expect(await turn(b, 'and by user field', { user: 'u-none' })).toBe('cloud');
    expect(await turn(a, 'a different conversation', { session: 's2' })).toBe('cloud');
    expect(JSON.stringify(cloud.requests)).not.toContain('appointment');
    // Kept in Redis with an expiry, under a hashed key (no conversation text).
    const r = new Redis(redis.url);
    try {
      const keys = await r.keys('*taint:*');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.join(' ')).not.toContain('s1');
      const ttl = await r.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2_000);
    } finally {
      r.disconnect();
    }
    // After the TTL the session is clean again (polled: Redis expires the key).
    await waitUntil(async () => (await turn(a, 'later, nothing private', { session: 's1' })) === 'cloud', {
      timeoutMs: 10_000,
      intervalMs: 100,
      message: 'the session routes to the cloud once its taint expired',
    });
  }, 60_000);

  it('the leading messages identify a conversation without any session key', async () => {
    expect(await turn(a, 'call me on +1 415 555 0100 or pat@example.com')).toBe('dev');
    // The next turn repeats the first user message (so it is detected anyway) — use a conversation whose first turn
    // was tagged by header instead: its later turns carry no tag of their own.
    const first = 'first message of a header-tagged chat';
    const r = await a.client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: first }] }, { headers: { 'x-switchyard-tags': 'pii' } })
      .withResponse();
    expect(r.response.headers.get('x-switchyard-route')).toBe('dev');
    expect(await turn(b, 'second turn, untagged', { history: first })).toBe('dev');
    expect(await turn(b, 'unrelated chat', { history: 'another opening' })).toBe('cloud');
  }, 60_000);
});

describe('decision inputs in the audit', () => {
  it('keep only the metadata fields and headers rules match on, never other metadata values', () => {
    const up = new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'cloud', url: 'http://127.0.0.1:9/v1', models: ['m'] }));
    const p = compilePolicy(
      policySchema.parse({
        version: 1,
        rules: [
          { id: 'ml', match: { metadata: { team: 'ml' }, headers: { 'x-app': 'ui' } }, route: ['cloud'] },
          { id: 'rest', route: ['cloud'] },
        ],
      }),
      'v',
      new ModelCatalog([up]),
    );
    const d = p.decide({
      request: inferenceRequestFromBody({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
        metadata: { team: 'ml', note: 'patient Ann Lee' },
      }),
      headers: new Headers({ 'x-app': 'ui', 'x-other': 'secret-ish' }),
      principal: ANONYMOUS,
    });
    expect(d.ruleId).toBe('ml');
    expect(d.audit?.inputs.metadata).toEqual({ team: 'ml' });
    expect(d.audit?.inputs.headers).toEqual({ 'x-app': 'ui' });
    void up.close();
  });
});
