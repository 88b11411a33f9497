/**
 * The platform's floor for an OpenAI-compatible proxy: Hono on @hono/node-server, zod validation of the chat body,
 * undici forwarding, no features (no auth, policy, cache, records, metrics). Run as its own process:
 *   UPSTREAM=http://127.0.0.1:PORT/v1 node --import tsx bench/lib/bare-proxy.ts   -> prints {"url": "..."} on stdout
 * Streams are passed through with a pull-based ReadableStream over the undici body (Readable.toWeb crashes Node 20
 * when the client disconnects mid-stream), and the body gets an error handler before it is destroyed on cancel.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Pool } from 'undici';
import { z } from 'zod';

const upstream = new URL(process.env['UPSTREAM'] ?? 'http://127.0.0.1:8000/v1');
const basePath = upstream.pathname.replace(/\/$/, '');
const pool = new Pool(upstream.origin, { connections: 128, keepAliveTimeout: 30_000 });

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

const app = new Hono();
app.post('/v1/chat/completions', async (c) => {
  const raw = await c.req.json().catch(() => undefined);
  const parsed = chatRequest.safeParse(raw);
  if (!parsed.success) return c.json({ error: { message: parsed.error.message, type: 'invalid_request_error', param: null, code: null } }, 400);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
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
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { value, done } = await it.next();
        if (done) ctrl.close();
        else ctrl.enqueue(value as Uint8Array);
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

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env['PORT'] ?? 0) }, (info) => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
});
