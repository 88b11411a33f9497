/** /v1/files: upload, list, read and delete the JSONL files batches read and write (per tenant). */
import type { Hono } from 'hono';
import { errors } from '../core/errors.js';
import { readBodyBytes } from '../core/read-body.js';
import { publicFile } from '../batch/batch-types.js';
import type { BatchService } from '../batch/batch-service.js';
import type { GatewayEnv, GatewayServices } from '../services.js';
import { methodGuard } from './method-guard.js';

export function fileRoutes(app: Hono<GatewayEnv>, s: GatewayServices, batches: BatchService): void {
  const limit = s.config.batch.max_file_bytes;
  app.post('/v1/files', async (c) => {
    const ctype = c.req.header('content-type') ?? '';
    if (!ctype.startsWith('multipart/form-data')) throw errors.unsupportedMediaType(ctype);
    // Read under the limit first: a chunked upload declares no length, and formData() alone would buffer it all.
    const raw = await readBodyBytes(c.req.raw, limit);
    const form = await new Response(raw.slice(), { headers: { 'content-type': ctype } }).formData().catch(() => {
      throw errors.invalid('The multipart body could not be parsed.', null, 'invalid_value');
    });
    const file = form.get('file');
    const purpose = form.get('purpose');
    if (!(file instanceof Blob)) throw errors.invalid("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
    if (typeof purpose !== 'string') throw errors.invalid("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
    if (file.size > limit) throw errors.tooLarge(limit);
    const name = 'name' in file && typeof file.name === 'string' ? file.name : 'upload.jsonl';
    const meta = await batches.createFile(c.get('ctx').principal.tenant, name, purpose, new Uint8Array(await file.arrayBuffer()));
    return c.json(publicFile(meta));
  });
  app.get('/v1/files', async (c) =>
    c.json({ object: 'list', data: (await batches.listFiles(c.get('ctx').principal.tenant)).map(publicFile), has_more: false }),
  );
  methodGuard(app, '/v1/files', 'GET, POST');
  app.get('/v1/files/:id', async (c) => c.json(publicFile(await batches.file(c.get('ctx').principal.tenant, c.req.param('id')))));
  app.delete('/v1/files/:id', async (c) => {
    const id = c.req.param('id');
    await batches.deleteFile(c.get('ctx').principal.tenant, id);
    return c.json({ id, object: 'file', deleted: true });
  });
  methodGuard(app, '/v1/files/:id', 'GET, DELETE');
  app.get('/v1/files/:id/content', async (c) => {
    const bytes = await batches.fileContent(c.get('ctx').principal.tenant, c.req.param('id'));
    return new Response(bytes.slice(), { status: 200, headers: { 'content-type': 'application/jsonl' } });
  });
  methodGuard(app, '/v1/files/:id/content', 'GET');
}
