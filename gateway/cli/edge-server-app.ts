/** `switchyard edge serve`: the edge runtime alone behind the same OpenAI surface, plus /health and /metrics. */
import { Hono } from 'hono';
import { createGateway } from '../../edge-runtime/app.js';
import { configSchema } from '../../edge-runtime/config/schema.js';
import type { Logger } from '../../edge-runtime/core/logger.js';
import type { EdgeUpstream, EngineHandle } from '../../edge-runtime/upstreams/edge/edge-upstream.js';
import { EdgeMetrics } from '../../edge-runtime/metrics/edge-gauges.js';

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
