/** POST /v1/responses (OpenAI Responses API) translated onto chat completions; GET /v1/responses/:id from the store. */
import type { Context, Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';
import { serveInference } from './inference.js';
import { GatewayError } from '../core/errors.js';
import { parseInferenceRequest } from '../core/inference-request.js';
import { readJsonBody } from '../core/read-body.js';
import { jsonResponse } from '../core/respond.js';
import type { JsonObject } from '../core/types.js';
import { parseResponsesRequest, toChatBody } from '../fronts/responses-request.js';
import { responsesFront } from '../fronts/responses-response.js';
import { ResponseStore } from '../fronts/response-store.js';

const notFound = (id: string, param: string | null) =>
  new GatewayError(`No stored response with id '${id}' (responses are kept for a limited time, per tenant).`, {
    status: 404,
    code: 'response_not_found',
    param,
  });

export function responsesRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  const store = new ResponseStore(s.cache);
  app.post('/v1/responses', (c) => handle(c, s, store));
  methodGuard(app, '/v1/responses', 'POST');
  app.get('/v1/responses/:id', async (c) => {
    const id = c.req.param('id');
    const stored = await store.get(c.get('ctx').principal.tenant, id);
    if (!stored) throw notFound(id, null);
    return jsonResponse(stored.response, 200, c.get('ctx').headers);
  });
}

async function handle(c: Context<GatewayEnv>, s: GatewayServices, store: ResponseStore): Promise<Response> {
  const ctx = c.get('ctx');
  ctx.front = 'responses';
  const { json } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
  const r = parseResponsesRequest(json);
  const tenant = ctx.principal.tenant;
  let history: JsonObject[] = [];
  if (r.previous_response_id) {
    const prev = await store.get(tenant, r.previous_response_id);
    if (!prev) throw notFound(r.previous_response_id, 'previous_response_id');
    history = prev.conversation;
  }
  const { body, conversation } = toChatBody(r, history);
  const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength;
  const request = parseInferenceRequest('chat.completions', body, bytes, s.config.server.limits);
  const front = responsesFront({
    request: r,
    onFinished:
      r.store === false
        ? undefined
        : (response, assistant) => store.put(tenant, String(response['id']), { conversation: [...conversation, assistant], response }),
  });
  return serveInference(c, s, request, front);
}
