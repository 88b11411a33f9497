/**
 * Server timeouts are enforced on time: a connection sending its headers one byte per second is closed (408) within
 * headers_timeout_ms + 1 s, and one trickling its body within request_timeout_ms + 1 s. Node only sweeps for expired
 * connections every connectionsCheckingInterval (30 s by default), so without setting it these took 30 s longer.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const HEADERS_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 5_000;

let fake: FakeOpenAI;
let gw: TestGateway;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  gw = await startTestGateway({
    server: { limits: { headers_timeout_ms: HEADERS_TIMEOUT_MS, request_timeout_ms: REQUEST_TIMEOUT_MS } },
    upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }],
  });
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});

/** Connects, writes `prefix` at once, then one byte of `trickle` per second; resolves with when and how it ended. */
function slowClient(port: number, prefix: string, trickle: string, giveUpMs: number): Promise<{ closedAfterMs: number; got: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let got = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ closedAfterMs: Date.now() - started, got });
    };
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', end);
    socket.once('connect', () => {
      socket.write(prefix);
      timer = setInterval(() => {
        if (i < trickle.length && !socket.destroyed) socket.write(trickle[i++]!);
      }, 1_000);
    });
  });
}

describe('slowloris', () => {
  it('closes connections sending headers one byte per second within headers_timeout + 1 s', async () => {
    // The first byte goes at once: Node's header timer starts with the request's first byte.
    const headers = 'OST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: ' + 'a'.repeat(100);
    const results = await Promise.all(Array.from({ length: 20 }, () => slowClient(gw.port, 'P', headers, HEADERS_TIMEOUT_MS + 10_000)));
    for (const r of results) {
      expect(r.got).toMatch(/^HTTP\/1\.1 408/);
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
      expect(r.closedAfterMs).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + 1_000);
    }
  }, 30_000);

  it('closes connections trickling the body within request_timeout + 1 s', async () => {
    const body = JSON.stringify({ model: 'gpt-a', messages: [{ role: 'user', content: 'x'.repeat(100) }] });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const results = await Promise.all(Array.from({ length: 10 }, () => slowClient(gw.port, head, body, REQUEST_TIMEOUT_MS + 10_000)));
    for (const r of results) {
      expect(r.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
      expect(r.closedAfterMs).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 1_000);
    }
  }, 30_000);
});
