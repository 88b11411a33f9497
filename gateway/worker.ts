/**
 * The Cloudflare Worker entry: the same createGateway app as the Node entry (gateway/node.ts), composed from the Worker's
 * bindings by worker-wiring/. Built once per isolate; breakers, cache and counters live as long as the isolate does.
 */
import type { ExecutionContext, Hono } from 'hono';
import { createGateway, type GatewayEnv } from './app.js';
import { GatewayError } from './core/errors.js';
import { workerDeps } from './worker-wiring/worker-deps.js';

let built: { key: string; app: Promise<Hono<GatewayEnv>> } | undefined;

/** The app for these bindings; rebuilt only if the config or policy text changed (a new deployment gets a new isolate anyway). */
function appFor(env: Record<string, unknown>): Promise<Hono<GatewayEnv>> {
  const key = `${String(env['SWITCHYARD_CONFIG'])}\u0000${String(env['SWITCHYARD_POLICY'])}`;
  if (built?.key !== key) {
    const app = workerDeps(env).then(({ config, deps }) => createGateway(config, deps));
    // A failed build is logged once per attempt and retried on the next request (the bindings may be fixed by then).
    app.catch((err: unknown) => {
      console.error(
        JSON.stringify({ level: 'error', msg: 'switchyard: configuration rejected', error: err instanceof Error ? err.message : String(err) }),
      );
      if (built?.app === app) built = undefined;
    });
    built = { key, app };
  }
  return built.app;
}

/**
 * workerd tears a request down when its client goes away mid-stream without cancelling the response body, so the
 * gateway's stream end (record, finalizers, upstream abort) would never run. Piping through a TransformStream under
 * waitUntil turns the disconnect into a cancel of the gateway's stream, which runs all of that.
 */
function keepStreamAccounted(res: Response, ctx: ExecutionContext): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  ctx.waitUntil(res.body!.pipeTo(writable).catch(() => undefined));
  return new Response(readable, res);
}

export default {
  async fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContext): Promise<Response> {
    let app: Hono<GatewayEnv>;
    try {
      app = await appFor(env);
    } catch {
      // The operator reads the reason (source:line: field) in the Worker's logs; clients get an OpenAI-shaped 500.
      return new GatewayError('The gateway is misconfigured; its operator can read why in the Worker logs.', {
        status: 500,
        code: 'internal_error',
      }).toResponse();
    }
    const res = await app.fetch(request, env, ctx);
    return res.body && (res.headers.get('content-type') ?? '').startsWith('text/event-stream') ? keepStreamAccounted(res, ctx) : res;
  },
};
