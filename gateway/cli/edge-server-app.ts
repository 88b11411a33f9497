/** `switchyard edge serve`: one edge upstream behind the gateway's own OpenAI surface, plus /health and /metrics. */
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { createGateway } from '../app.js';
import { configSchema } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Upstream } from '../core/upstream.js';
import { registerEdgeGauges } from '../metrics/edge-gauges.js';

export function createEdgeServerApp(upstream: Upstream, logger?: Logger): Hono {
  const gateway = createGateway(configSchema.parse({}), { upstreams: [upstream], logger });
  const registry = new Registry();
  registerEdgeGauges(registry, [upstream]);
  const app = new Hono();
  app.get('/health', async (c) => {
    const stats = upstream.engineStats?.();
    const ready = await upstream.ready();
    return c.json({ status: ready ? 'ok' : 'loading', model: upstream.models[0]?.upstreamModel ?? null, stats: stats ?? null }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.route('/', gateway);
  return app;
}
