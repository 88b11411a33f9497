/**
 * The OpenAI-compatible upstream's SSE reading (hot path): events come out in order and end at [DONE]; a body that
 * ends without [DONE] is an error after the events before it; and a stream whose [DONE] arrives before the end of the
 * HTTP body keeps its keep-alive connection (destroying the body there reset the socket: one TCP connection per stream).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { upstreamSchema } from '../../gateway/config/schema.js';
import { hasReadyEvents } from '../../gateway/core/ready-events.js';
import type { UpstreamResult } from '../../gateway/core/upstream.js';
import { OpenAICompatibleUpstream } from '../../gateway/upstreams/openai/openai-compatible.js';
import { waitUntil } from '../helpers/wait.js';

const chunk = (i: number) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `t${i}` } }] });

let server: Server | undefined;
let upstream: OpenAICompatibleUpstream | undefined;
afterEach(async () => {
  await upstream?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server?.closeAllConnections();
  server = undefined;
  upstream = undefined;
});

/** A loopback upstream whose streaming answer is written by `write`; counts the TCP connections it accepts. */
async function start(write: (res: ServerResponse) => void): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      write(res);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => connections++);
  const port = await new Promise<number>((r) => server!.listen(0, '127.0.0.1', () => r((server!.address() as { port: number }).port)));
  return { url: `http://127.0.0.1:${port}/v1`, connections: () => connections };
}

function connect(url: string): OpenAICompatibleUpstream {
  upstream = new OpenAICompatibleUpstream(upstreamSchema.parse({ id: 'up', url, models: ['m'], max_connections: 1 }));
  return upstream;
}

/** One streaming chat call; its events. */
async function openStream(up: OpenAICompatibleUpstream): Promise<AsyncIterable<string>> {
  const r: UpstreamResult = await up.call({
    endpoint: 'chat.completions',
    body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true },
    stream: true,
    signal: new AbortController().signal,
    requestId: 'r',
  });
  if (r.kind !== 'stream') throw new Error('expected a stream');
  return r.events;
}

async function streamOnce(up: OpenAICompatibleUpstream): Promise<string[]> {
  const out: string[] = [];
  for await (const d of await openStream(up)) out.push(d);
  return out;
}

describe('upstream SSE', () => {
  it('events in order up to [DONE]; the connection is reused when the body ends after [DONE]', async () => {
    const fake = await start((res) => {
      // [DONE] first, the end of the chunked body a moment later (as a real upstream may send them).
      res.write(`data: ${chunk(0)}\n\ndata: ${chunk(1)}\n\n`);
      res.write(`data: ${chunk(2)}\n\ndata: [DONE]\n\n`);
      setTimeout(() => res.end(), 30);
    });
    const up = connect(fake.url);
    const expected = [chunk(0), chunk(1), chunk(2)];
    expect(await streamOnce(up)).toEqual(expected);
    // One connection in the pool: the next call waits for it, and gets it back only if the tail was drained.
    expect(await streamOnce(up)).toEqual(expected);
    expect(await streamOnce(up)).toEqual(expected);
    expect(fake.connections()).toBe(1);
  });

  it('a body that ends without [DONE] fails after the events before it', async () => {
    const fake = await start((res) => {
      res.write(`data: ${chunk(0)}\n\n`);
      res.end(`data: ${chunk(1)}\n\n`);
    });
    const up = connect(fake.url);
    const it = (await openStream(up))[Symbol.asyncIterator]();
    expect(hasReadyEvents(it)).toBe(true);
    const seen: string[] = [];
    await expect(
      (async () => {
        for (let s = await it.next(); !s.done; s = await it.next()) seen.push(s.value);
      })(),
    ).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(seen).toEqual([chunk(0), chunk(1)]);
    expect(up.load().inFlight).toBe(0);
  });

  it('a reader that leaves while a read is pending ends cleanly: the pending step is the end, the call is released', async () => {
    let closed = false;
    const fake = await start((res) => {
      res.write(`data: ${chunk(0)}\n\n`); // then nothing more until the client goes
      res.on('close', () => (closed = true));
    });
    const up = connect(fake.url);
    const it = (await openStream(up))[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: chunk(0) });
    const pending = it.next();
    await it.return?.();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    expect(up.load().inFlight).toBe(0);
    await waitUntil(async () => closed, { timeoutMs: 10_000, intervalMs: 10 });
  });
});
