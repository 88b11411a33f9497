/** `switchyard edge serve`: the edge runtime alone behind the same OpenAI surface, plus /health and /metrics. */
import { Hono } from 'hono';
import { createGateway } from '../app.js';
import { configSchema } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { EdgeUpstream, EngineHandle } from '../upstreams/edge/edge-upstream.js';
import { EdgeMetrics } from '../metrics/edge-gauges.js';

export function createEdgeServerApp(upstream: EdgeUpstream, engine: EngineHandle, logger?: Logger): Hono {
  const gateway = createGateway(configSchema.parse({}), { upstreams: [upstream], logger });
  const metrics = new EdgeMetrics(() => engine.lastStats());
  const app = new Hono();
  app.get('/health', (c) => {
    const stats = engine.lastStats();
    const ready = engine.isReady();
    return c.json({ status: ready ? 'ok' : 'loading', model: engine.modelId, stats: stats ?? null }, ready ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await metrics.text(), 200, { 'content-type': metrics.registry.contentType }));
  app.route('/', gateway);
  return app;
}
