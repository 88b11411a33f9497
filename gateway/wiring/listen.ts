/** Serves a fetch handler on Node (HTTP or HTTPS) with the server limits applied, and drains it on shutdown. */
import { serve, type ServerType } from '@hono/node-server';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { ClientGoneHook } from '../core/client-gone.js';

export interface Listening {
  url: string;
  port: number;
  /** Stops accepting; resolves when in-flight requests finished or the grace period closed them. */
  drain(): Promise<void>;
}

/** Thrown when the server cannot bind: the message is the one line a user needs. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

export function listenError(err: NodeJS.ErrnoException, host: string, port: number): ListenError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (err.code === 'EADDRINUSE') return new ListenError(`cannot listen on ${where}: port ${port} is already in use (choose another with --port)`);
  if (err.code === 'EACCES') return new ListenError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`);
  if (err.code === 'EADDRNOTAVAIL') return new ListenError(`cannot listen on ${where}: address not available on this machine`);
  return new ListenError(`cannot listen on ${where}: ${err.message}`);
}

/** How often Node checks connections for expired header/request timeouts: 500 ms, finer for very short timeouts. */
export function connectionsCheckingIntervalMs(lim: GatewayConfig['server']['limits']): number {
  return Math.max(50, Math.min(500, Math.floor(Math.min(lim.headers_timeout_ms, lim.request_timeout_ms) / 4)));
}

/** What @hono/node-server passes a fetch handler beside the Request, plus the hook the gateway reads (core/client-gone.ts). */
interface NodeBindings extends ClientGoneHook {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

/**
 * The client is gone when its response closes before it finished, as @hono/node-server itself decides for
 * Request.signal; a listener on the response costs a fraction of the AbortController reading the signal builds.
 */
function withClientGoneHook<E>(fetch: (req: Request, env: E) => Response | Promise<Response>) {
  return (req: Request, env: E & NodeBindings) => {
    const out = env.outgoing;
    env.onClientGone = (fn) => {
      const listener = () => {
        if (!out.writableFinished) fn();
      };
      out.once('close', listener);
      return () => out.off('close', listener);
    };
    return fetch(req, env);
  };
}

export async function listen<E>(
  fetch: (req: Request, env: E) => Response | Promise<Response>,
  server: GatewayConfig['server'],
  logger: Logger,
): Promise<Listening> {
  const lim = server.limits;
  const tls = server.tls;
  const base = { fetch: withClientGoneHook(fetch) as (req: Request) => Response | Promise<Response>, hostname: server.host, port: server.port };
  // Node enforces headersTimeout/requestTimeout only when it sweeps connections, every connectionsCheckingInterval
  // (30 s by default): slowloris got its 408 at 31 s against 10 s. The sweep interval is the timeouts' precision.
  const timing = { maxHeaderSize: lim.max_header_bytes, connectionsCheckingInterval: connectionsCheckingIntervalMs(lim) };
  const started: ServerType = await new Promise((resolve, reject) => {
    const s = tls
      ? serve(
          {
            ...base,
            createServer: createHttpsServer,
            serverOptions: { cert: readFileSync(tls.cert_file), key: readFileSync(tls.key_file), ...timing },
          },
          () => resolve(s),
        )
      : serve({ ...base, serverOptions: timing }, () => resolve(s));
    // Without a listener a busy port is an unhandled 'error' event and a stack trace; this is one line instead.
    s.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, server.host, server.port)));
  });
  const http = started as Server;
  // Slow senders and idle keep-alives must not pin sockets forever. requestTimeout bounds receiving the request;
  // a long stream back to the client is bounded by the upstream timeouts instead.
  http.headersTimeout = lim.headers_timeout_ms;
  http.requestTimeout = lim.request_timeout_ms;
  http.keepAliveTimeout = lim.keep_alive_timeout_ms;
  http.maxHeadersCount = lim.max_headers;
  const port = (http.address() as AddressInfo).port;
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${port}`;

  const drain = async () => {
    logger.info({ graceMs: server.shutdown_grace_ms }, 'shutting down: draining in-flight requests');
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    // Keep-alive sockets that finish their request become idle: close them as they do.
    const idle = setInterval(() => http.closeIdleConnections(), 50);
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), server.shutdown_grace_ms).unref());
    const outcome = await Promise.race([closed.then(() => 'drained' as const), grace]);
    clearInterval(idle);
    if (outcome === 'timeout') {
      logger.warn('grace period over: closing remaining connections');
      http.closeAllConnections();
      await closed;
    }
  };
  return { url, port, drain };
}
