/**
 * The platform's floor for an OpenAI-compatible proxy: Hono on @hono/node-server, zod validation of the chat body,
 * undici forwarding, no features (no auth, policy, cache, records, metrics). Run as its own process:
 *   UPSTREAM=http://127.0.0.1:PORT/v1 node bench/lib/bare-proxy.mjs   -> prints {"url": "..."} on stdout
 * Streams are passed through with a pull-based ReadableStream over the undici body (Readable.toWeb crashes Node 20
 * when the client disconnects mid-stream), and the body gets an error handler before it is destroyed on cancel.
 * Plain JavaScript, like the compiled Switchyard the bench runs: no TypeScript loader in either process.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Pool } from 'undici';
import { z } from 'zod';

const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).nullable(),
});
const chatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().positive().optional(),
});

/** The bare proxy's Hono app forwarding to `upstreamUrl` (e.g. http://127.0.0.1:PORT/v1), and its connection pool. */
export function createBareProxy(upstreamUrl) {
  const upstream = new URL(upstreamUrl);
  const basePath = upstream.pathname.replace(/\/$/, '');
  const pool = new Pool(upstream.origin, { connections: 128, keepAliveTimeout: 30_000 });
  const app = new Hono();
  app.post('/v1/chat/completions', async (c) => {
    const raw = await c.req.json().catch(() => undefined);
    const parsed = chatRequest.safeParse(raw);
    if (!parsed.success) return c.json({ error: { message: parsed.error.message, type: 'invalid_request_error', param: null, code: null } }, 400);
    const headers = { 'content-type': 'application/json' };
    const auth = c.req.header('authorization');
    if (auth) headers['authorization'] = auth;
    const res = await pool.request({ path: `${basePath}/chat/completions`, method: 'POST', headers, body: JSON.stringify(parsed.data) });
    const contentType = String(res.headers['content-type'] ?? 'application/json');
    if (parsed.data.stream !== true) {
      const buf = await res.body.arrayBuffer();
      return new Response(buf, { status: res.statusCode, headers: { 'content-type': contentType } });
    }
    const body = res.body;
    body.on('error', () => undefined);
    const it = body[Symbol.asyncIterator]();
    const stream = new ReadableStream({
      async pull(ctrl) {
        try {
          const { value, done } = await it.next();
          if (done) ctrl.close();
          else ctrl.enqueue(value);
        } catch (e) {
          ctrl.error(e);
        }
      },
      cancel() {
        body.destroy();
      },
    });
    return new Response(stream, { status: res.statusCode, headers: { 'content-type': contentType, 'cache-control': 'no-cache' } });
  });
  return { app, pool };
}

/** Serves the bare proxy on 127.0.0.1 (PORT or a free port); resolves with its URL and a close function. */
export function serveBareProxy(upstreamUrl, port = 0) {
  const { app, pool } = createBareProxy(upstreamUrl);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: async () => {
          server.close();
          await pool.close();
        },
      }),
    );
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url, close } = await serveBareProxy(process.env['UPSTREAM'] ?? 'http://127.0.0.1:8000/v1', Number(process.env['PORT'] ?? 0));
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.on('SIGTERM', () => void close().finally(() => process.exit(0)));
}
