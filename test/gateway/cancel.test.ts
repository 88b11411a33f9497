import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cancel, toAbortSignal } from '../../gateway/core/cancel.js';
import { onAbort } from '../../gateway/core/abort.js';
import { waitUntil } from '../helpers/wait.js';

describe('Cancel (the hot path abort signal)', () => {
  it('calls each listener once, in order, with the reason set, and not after removal', () => {
    const c = new Cancel();
    const seen: string[] = [];
    const one = () => seen.push(`one:${String(c.reason)}`);
    const two = () => seen.push('two');
    const three = () => seen.push('three');
    c.addEventListener('abort', one);
    c.addEventListener('abort', two);
    c.addEventListener('abort', three);
    c.removeEventListener('abort', two);
    expect(c.aborted).toBe(false);
    c.abort('gone');
    c.abort('again');
    expect(c.aborted).toBe(true);
    expect(c.reason).toBe('gone');
    expect(seen).toEqual(['one:gone', 'three']);
  });

  it('fires at once through onAbort when already aborted, and a throwing listener does not stop the others', async () => {
    const c = new Cancel();
    let later = 0;
    const thrown: unknown[] = [];
    const onErr = (e: unknown) => thrown.push(e);
    process.prependListener('uncaughtException', onErr);
    try {
      c.addEventListener('abort', () => {
        throw new Error('listener failed');
      });
      c.addEventListener('abort', () => later++);
      c.abort(new Error('stop'));
      expect(later).toBe(1);
      let now = 0;
      onAbort(c, () => now++);
      expect(now).toBe(1);
      await waitUntil(() => thrown.length === 1, { timeoutMs: 5_000 });
      expect((thrown[0] as Error).message).toBe('listener failed');
    } finally {
      process.removeListener('uncaughtException', onErr);
    }
  });

  it('gives a real AbortSignal that follows it', () => {
    const c = new Cancel();
    const s = toAbortSignal(c);
    expect(s).toBeInstanceOf(AbortSignal);
    c.abort(new Error('bye'));
    expect(s.aborted).toBe(true);
    expect((s.reason as Error).message).toBe('bye');
    const real = new AbortController().signal;
    expect(toAbortSignal(real)).toBe(real);
  });
});

describe('Cancel as an undici signal', () => {
  let server: Server;
  let closed = 0;
  beforeAll(async () => {
    // Answers the headers, then never finishes: only an abort ends the request.
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      req.socket.on('close', () => closed++);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('aborts an in-flight request and closes its connection', async () => {
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const c = new Cancel();
    const res = await pool.request({ path: '/', method: 'GET', signal: c as unknown as AbortSignal });
    const body = res.body.text();
    c.abort(new Error('client went away'));
    await expect(body).rejects.toThrow('client went away');
    await waitUntil(() => closed === 1, { timeoutMs: 10_000 });
    await pool.close();
  });
});
