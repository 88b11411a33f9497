/** TLS on the Node server itself, and operator endpoints behind an admin key. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sha256Hex } from '../../gateway/auth/key-hash.js';

let gw: TestGateway;
const USER = 'sk-sy-user-key-abcdefghijklmnop';
const ADMIN = 'sk-sy-admin-key-abcdefghijklmnop';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  gw = await startTestGateway({
    server: { metrics_auth: true, tls: { cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem') } },
    keys: [
      { id: 'user', sha256: await sha256Hex(USER) },
      { id: 'ops', sha256: await sha256Hex(ADMIN), role: 'admin' },
    ],
  });
});
afterAll(async () => {
  await gw?.shutdown();
});

const insecure = new Agent({ connect: { rejectUnauthorized: false } });
const get = (path: string, key?: string) =>
  undiciFetch(`${gw.url}${path}`, { dispatcher: insecure, headers: key ? { authorization: `Bearer ${key}` } : {} });

describe('TLS and admin endpoints', () => {
  it('serves HTTPS with the configured certificate', async () => {
    expect(gw.url.startsWith('https://')).toBe(true);
    const r = await get('/healthz');
    expect(r.status).toBe(200);
    const models = await get('/v1/models', USER);
    expect(models.status).toBe(200);
  });

  it('keeps /admin and /dashboard behind an admin key', async () => {
    expect((await get('/admin/upstreams')).status).toBe(401);
    const user = await get('/admin/upstreams', USER);
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: { code: string } }).error.code).toBe('admin_required');
    expect((await get('/dashboard', USER)).status).toBe(403);
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', USER)).status).toBe(403);
    expect((await get('/metrics', ADMIN)).status).toBe(200);
    // An admin passes the guard (the route itself arrives with the operator surfaces).
    const admin = await get('/admin/upstreams', ADMIN);
    expect([200, 404]).toContain(admin.status);
  });
});
