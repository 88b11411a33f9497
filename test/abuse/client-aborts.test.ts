/**
 * A client going away is not an internal error: 1,000 aborted requests (body cut short, JSON and stream before the
 * first byte, stream after the first byte) are recorded as 499 client_closed_request, logged at info level with no
 * stack, counted under that code (never internal_error), and the upstream call is cancelled each time.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';
import type { Logger, LogFn } from '../../gateway/core/logger.js';
import type { RequestContext } from '../../gateway/core/request-context.js';

/** Keeps every log line the gateway writes, by level. */
function capturingLogger(lines: Array<{ level: string; obj: unknown; msg?: string }>): Logger {
  const at =
    (level: string): LogFn =>
    (a: Record<string, unknown> | string, msg?: string) =>
      lines.push(typeof a === 'string' ? { level, obj: {}, msg: a } : { level, obj: a, msg });
  const logger: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

const BATCH = 25;
let fake: FakeOpenAI;
let gw: TestGateway;
const lines: Array<{ level: string; obj: unknown; msg?: string }> = [];
const done: RequestContext[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI({ record: false });
  gw = await startTestGateway(
    { upstreams: [{ id: 'fakecloud', url: fake.url, models: ['gpt-a'] }] },
    { logger: capturingLogger(lines), onComplete: (ctx) => done.push(ctx) },
  );
});
afterAll(async () => {
  await gw?.shutdown();
  await fake?.close();
});

interface RawClient {
  socket: Socket;
  /** Resolves once the received bytes contain `text`. */
  seen(text: string): Promise<void>;
}

function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const waiters: Array<{ text: string; resolve: () => void }> = [];
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      for (const w of waiters) if (received.includes(w.text)) w.resolve();
    });
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        socket,
        seen: (text) => (received.includes(text) ? Promise.resolve() : new Promise((r) => waiters.push({ text, resolve: r }))),
      }),
    );
    socket.once('error', reject);
  });
}

const body = (stream: boolean) => JSON.stringify({ model: 'gpt-a', stream, messages: [{ role: 'user', content: 'tell me a long story' }] });
const head = (length: number, extra = '') =>
  `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

async function settled(expected: number): Promise<void> {
  await waitUntil(() => done.length >= expected && fake.inFlight === 0, {
    timeoutMs: 30_000,
    message: `${done.length}/${expected} completed, upstream in flight ${fake.inFlight}`,
  });
}

describe('client aborts', () => {
  it('records 1,000 aborted requests as 499 at info level and cancels the upstream work', async () => {
    // The Node adapter reports errors it cannot hand to the app on console.error: none may come from client aborts.
    const consoleErrors = vi.spyOn(console, 'error');
    const port = gw.port;
    // 1. The body is cut short (JSON and stream requests): the gateway is reading the body when the client leaves.
    for (let b = 0; b < 250 / BATCH; b++) {
      await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const c = await rawClient(port);
          const full = body(i % 2 === 0);
          c.socket.write(head(full.length, 'Expect: 100-continue\r\n'));
          await c.seen('100 Continue'); // the request has reached the handler
          c.socket.write(full.slice(0, 20));
          c.socket.destroy();
        }),
      );
    }
    await settled(250);
    expect(fake.served + fake.aborted).toBe(0); // nothing was sent upstream

    // 2. JSON and stream requests whose client leaves while the upstream has not answered yet.
    fake.setFault({ hang: true });
    const abortedBefore = fake.aborted;
    for (let b = 0; b < 500 / BATCH; b++) {
      const clients = await Promise.all(
        Array.from({ length: BATCH }, async (_, i) => {
          const c = await rawClient(port);
          const full = body(i % 2 === 0);
          c.socket.write(head(full.length) + full);
          return c;
        }),
      );
      await waitUntil(() => fake.inFlight === BATCH, { timeoutMs: 20_000, message: `upstream in flight ${fake.inFlight}` });
      for (const c of clients) c.socket.destroy();
      await settled(250 + (b + 1) * BATCH);
    }
    expect(fake.aborted - abortedBefore).toBe(500); // every upstream call was cancelled

    // 3. Streams whose client leaves after the first token.
    fake.setFault({ holdAfterFirstChunk: true });
    for (let b = 0; b < 250 / BATCH; b++) {
      await Promise.all(
        Array.from({ length: BATCH }, async () => {
          const c = await rawClient(port);
          const full = body(true);
          c.socket.write(head(full.length) + full);
          await c.seen('data: {');
          c.socket.destroy();
        }),
      );
      await settled(750 + (b + 1) * BATCH);
    }
    fake.clearFault();
    expect(fake.aborted - abortedBefore).toBe(750);

    expect(done).toHaveLength(1000);
    const byCode = new Map<string, number>();
    for (const ctx of done) byCode.set(`${ctx.status} ${ctx.errorCode}`, (byCode.get(`${ctx.status} ${ctx.errorCode}`) ?? 0) + 1);
    expect(Object.fromEntries(byCode)).toEqual({ '499 client_closed_request': 1000 });

    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(consoleErrors).not.toHaveBeenCalled();
    consoleErrors.mockRestore();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(JSON.stringify(lines)).not.toContain('stack');
    expect(lines.filter((l) => l.level === 'info' && l.msg === 'request done' && (l.obj as { status?: number }).status === 499)).toHaveLength(1000);

    const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text());
    expect(metrics).not.toMatch(/code="internal_error"/);
    expect(metrics).toMatch(/switchyard_errors_total\{destination="[^"]*",model="gpt-a",code="client_closed_request"\} \d+/);
    const closed = [...metrics.matchAll(/switchyard_errors_total\{[^}]*code="client_closed_request"\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(closed).toBe(1000);
  }, 180_000);
});
