/** /v1/batches: create, poll, list and cancel batches of requests (OpenAI's Batch API), per tenant. */
import type { Hono } from 'hono';
import { readJsonBody } from '../core/read-body.js';
import { validate } from '../core/validate.js';
import { createBatchSchema } from '../batch/batch-types.js';
import type { BatchService } from '../batch/batch-service.js';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';

export function batchRoutes(app: Hono<GatewayEnv>, s: GatewayServices, batches: BatchService): void {
  app.post('/v1/batches', async (c) => {
    const { json } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
    const input = validate(createBatchSchema, json);
    return c.json(await batches.createBatch(c.get('ctx').principal, input));
  });
  app.get('/v1/batches', async (c) => {
    const data = (await batches.listBatches(c.get('ctx').principal.tenant)).sort((a, b) => b.created_at - a.created_at);
    return c.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
  });
  methodGuard(app, '/v1/batches', 'GET, POST');
  app.get('/v1/batches/:id', async (c) => c.json(await batches.batch(c.get('ctx').principal.tenant, c.req.param('id'))));
  methodGuard(app, '/v1/batches/:id', 'GET');
  app.post('/v1/batches/:id/cancel', async (c) => c.json(await batches.cancel(c.get('ctx').principal.tenant, c.req.param('id'))));
  methodGuard(app, '/v1/batches/:id/cancel', 'POST');
}
