/**
 * Throws random and hostile requests at the gateway: every answer must be a 4xx with OpenAI-shaped JSON, nothing may
 * crash or reject unhandled. 10,000 in-process cases through app.fetch, plus raw bytes over a real socket.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../gateway/app.js';
import { configSchema } from '../../gateway/config/schema.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
let gw: TestGateway;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  gw = await startTestGateway({ server: { body_limit_bytes: 65_536 } });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await gw?.shutdown();
});

const paths = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/models',
  '/v1/models/x',
  '/healthz',
  '/readyz',
  '/',
  '/v1',
  '/v1/../etc/passwd',
  '/%2e%2e/',
  '/v1/chat/completions/extra',
];
const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

const jsonish = fc.oneof(
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record({
      model: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant('gpt-x')),
      messages: fc.oneof(
        fc.array(
          fc.record({
            role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool'), fc.string()),
            content: fc.oneof(fc.string(), fc.constant(null), fc.array(fc.record({ type: fc.string(), text: fc.string() }))),
          }),
        ),
        fc.string(),
        fc.constant(null),
      ),
      temperature: fc.oneof(fc.double(), fc.string(), fc.constant(undefined)),
      max_tokens: fc.oneof(fc.integer(), fc.double(), fc.constant(undefined)),
      stream: fc.oneof(fc.boolean(), fc.string(), fc.constant(undefined)),
      __proto__: fc.constant({ polluted: true }),
    })
    .map((o) => JSON.stringify(o)),
  fc.integer({ min: 1, max: 5000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
  fc.integer({ min: 1, max: 200 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
  fc.string(),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

const headerValue = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''));
const headers = fc.record(
  {
    'content-type': fc.oneof(
      fc.constant('application/json'),
      fc.constant('text/plain'),
      fc.constant('application/x-www-form-urlencoded'),
      headerValue,
    ),
    authorization: fc.oneof(fc.constant(undefined), fc.constant('Bearer '), headerValue, fc.constant('Bearer sk-sy-' + 'a'.repeat(600))),
    'x-request-id': fc.oneof(fc.constant(undefined), headerValue),
    'content-length': fc.oneof(fc.constant(undefined), fc.constant('99999999999'), fc.constant('-1')),
  },
  { requiredKeys: ['content-type'] },
);

function checkShape(status: number, text: string, contentType: string | null): void {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(contentType ?? '').toContain('application/json');
  const body = JSON.parse(text) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error['message']).toBe('string');
}

describe('hostile input', () => {
  it('answers 10,000 generated requests with 4xx OpenAI JSON (auth on and off)', async () => {
    const appOpen = createGateway(configSchema.parse({ edge: { enabled: false }, server: { body_limit_bytes: 65_536 } }), { upstreams: [] });
    const appKeyed = createGateway(configSchema.parse({ edge: { enabled: false }, keys: [{ id: 'k', sha256: await sha256Hex('sk-sy-good') }] }), {
      upstreams: [],
    });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...methods),
        fc.oneof(fc.constantFrom(...paths), fc.webPath()),
        headers,
        jsonish,
        fc.boolean(),
        async (method, path, hdrs, body, keyed) => {
          n++;
          const h = new Headers();
          for (const [k, v] of Object.entries(hdrs)) if (v !== undefined && k !== 'content-length') h.set(k, v);
          const init: RequestInit = { method, headers: h };
          if (method !== 'GET' && method !== 'HEAD') init.body = body;
          const res = await (keyed ? appKeyed : appOpen).fetch(new Request(`http://gw.test${path.startsWith('/') ? path : `/${path}`}`, init));
          if (method === 'HEAD' || (method === 'GET' && ['/healthz', '/readyz', '/v1/models'].includes(path) && !keyed)) return;
          if (method === 'GET' && path === '/healthz') return;
          if (res.status < 400) return void expect(['/v1/models', '/readyz', '/healthz']).toContain(path);
          checkShape(res.status, await res.text(), res.headers.get('content-type'));
        },
      ),
      { numRuns: 10_000 },
    );
    expect(n).toBeGreaterThanOrEqual(10_000);
    expect(unhandled).toEqual([]);
  }, 180_000);

  it('answers generated requests over real HTTP, and malformed HTTP, without crashing', async () => {
    const samples = fc.sample(fc.tuple(fc.constantFrom(...paths.filter((p) => !p.includes('..'))), jsonish), { numRuns: 300, seed: 7 });
    for (const [path, body] of samples) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      checkShape(res.status, await res.text(), res.headers.get('content-type'));
    }
    const port = Number(new URL(gw.url).port);
    // Malformed HTTP itself is answered by Node with 400, and the server keeps serving.
    const garbage = await new Promise<string>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => sock.end('GARBAGE \x00\x01 nonsense\r\n\r\n'));
      let out = '';
      const timer = setTimeout(() => {
        sock.destroy();
        resolve(out);
      }, 10_000);
      sock.on('data', (d) => (out += d.toString()));
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
      sock.on('error', () => resolve(out));
    });
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    expect(unhandled).toEqual([]);
  }, 120_000);
});
