/** POST /v1/messages (Anthropic Messages API) translated onto chat completions, and /v1/messages/count_tokens. */
import type { Hono } from 'hono';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';
import { serveInference } from './inference.js';
import { parseInferenceRequest } from '../core/inference-request.js';
import { readJsonBody } from '../core/read-body.js';
import { jsonResponse } from '../core/respond.js';
import { messagesRequestSchema, parseMessagesRequest, toChatBody } from '../fronts/messages-request.js';
import { messagesFront } from '../fronts/messages-response.js';
import { validate } from '../core/validate.js';

export function messagesRoutes(app: Hono<GatewayEnv>, s: GatewayServices): void {
  app.post('/v1/messages', async (c) => {
    c.get('ctx').front = 'messages';
    const { json } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
    const r = parseMessagesRequest(json);
    const body = toChatBody(r);
    const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength;
    const request = parseInferenceRequest('chat.completions', body, bytes, s.config.server.limits);
    return serveInference(c, s, request, messagesFront(r.model));
  });
  methodGuard(app, '/v1/messages', 'POST');
  // The same estimate the gateway reserves limits with (bytes / 4 of the translated prompt): no model is called.
  app.post('/v1/messages/count_tokens', async (c) => {
    c.get('ctx').front = 'messages';
    const { json } = await readJsonBody(c.req.raw, s.config.server.body_limit_bytes);
    const r = validate(messagesRequestSchema.omit({ max_tokens: true }), json);
    const body = toChatBody({ ...r, max_tokens: 1 });
    delete body['max_tokens'];
    const request = parseInferenceRequest('chat.completions', body, new TextEncoder().encode(JSON.stringify(body)).byteLength);
    return jsonResponse({ input_tokens: request.tokens.prompt }, 200, c.get('ctx').headers);
  });
  methodGuard(app, '/v1/messages/count_tokens', 'POST');
}
