/**
 * Replay before activation through the admin API: POST /admin/policies/replay previews a candidate policy over the
 * recorded traffic, and with `policies.gate: new_zones` an edit that would let a data class reach a new zone is held
 * back (the old version keeps serving) until POST /admin/policies/activate {"force": true}.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitUntil } from '../helpers/wait.js';

const STRICT = 'version: 1\ntags:\n  pii: { zones: [device] }\nrules:\n  - id: cloud-first\n    route: [cloud, dev]\n';
const LOOSE = 'version: 1\ntags:\n  pii: { zones: [device, region:*, cloud] }\nrules:\n  - id: cloud-first\n    route: [cloud, dev]\n';
const SAFE_EDIT = 'version: 1\ntags:\n  pii: { zones: [device] }\nrules:\n  - id: dev-first\n    route: [dev, cloud]\n';

describe('replay gate on activation', () => {
  let dev: FakeOpenAI;
  let cloud: FakeOpenAI;
  let gw: TestGateway;
  let file: string;
  const post = (path: string, body: unknown) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = async () =>
    ((await (await fetch(`${gw.url}/admin/policies`)).json()) as { policy: { version: string; lastError: string | null; pending?: string | null } })
      .policy;
  const route = async (content: string) =>
    (await gw.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] }).withResponse()).response.headers.get(
      'x-switchyard-route',
    );

  beforeAll(async () => {
    dev = await startFakeOpenAI();
    cloud = await startFakeOpenAI();
    const dir = mkdtempSync(join(tmpdir(), 'sy-gate-'));
    file = join(dir, 'policy.yaml');
    writeFileSync(file, STRICT);
    gw = await startTestGateway({
      policies: { file, poll_ms: 50, gate: 'new_zones' },
      records: { sink: 'jsonl', dir: join(dir, 'records') },
      upstreams: [
        { id: 'dev', url: dev.url, zone: 'device', models: ['m'] },
        { id: 'cloud', url: cloud.url, zone: 'cloud', models: ['m'] },
      ],
    });
    expect(await route('plain')).toBe('cloud');
    expect(await route('mail dee@example.org')).toBe('dev');
    expect(await route('mail eve@example.org')).toBe('dev');
  }, 60_000);
  afterAll(async () => {
    await gw?.shutdown();
    await dev?.close();
    await cloud?.close();
  });

  it('previews a candidate: the live policy changes nothing, a looser one names the requests reaching a new zone', async () => {
    const same = (await (await post('/admin/policies/replay', { policy: STRICT })).json()) as { replayed: number; changed: number };
    expect(same.replayed).toBe(3);
    expect(same.changed).toBe(0);
    const r = await post('/admin/policies/replay', { policy: LOOSE });
    expect(r.status).toBe(200);
    const loose = (await r.json()) as { changed: number; new_zones: Array<{ classes: string[]; zones: string[] }> };
    expect(loose.changed).toBe(2);
    expect(loose.new_zones).toHaveLength(2);
    expect(loose.new_zones[0]).toMatchObject({ classes: ['pii'], zones: ['cloud'] });
    const bad = await post('/admin/policies/replay', { policy: 'version: 1\ntags:\n  pii: { zones: [moon] }\n' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/:3: tags\.pii\.zones\[0\]: unknown zone 'moon'/);
  });

  it('holds back an edit that lets PII reach a new zone until forced; a safe edit goes live at once', async () => {
    const before = (await status()).version;
    writeFileSync(file, LOOSE);
    await waitUntil(async () => (await status()).lastError !== null, { timeoutMs: 10_000, message: 'gate verdict' });
    const held = await status();
    expect(held.version).toBe(before);
    expect(held.pending).toBeTruthy();
    expect(held.lastError).toMatch(/held back by the replay gate: 2 recorded request\(s\) carrying pii would reach new zone\(s\) cloud/);
    expect(await route('mail fay@example.org')).toBe('dev');
    const refused = await post('/admin/policies/activate', {});
    expect(refused.status).toBe(400);
    const forced = await post('/admin/policies/activate', { force: true });
    expect(forced.status).toBe(200);
    expect(((await forced.json()) as { activated: string }).activated).toBe(held.pending);
    expect(await route('mail gus@example.org')).toBe('cloud');

    // Back to strict, then a safe edit: no new zone, so it is not held.
    writeFileSync(file, STRICT);
    await waitUntil(async () => (await route('mail hal@example.org')) === 'dev', { timeoutMs: 10_000 });
    writeFileSync(file, SAFE_EDIT);
    await waitUntil(async () => (await route('plain again')) === 'dev', { timeoutMs: 10_000, message: 'safe edit live' });
    expect((await status()).lastError).toBeNull();

    // A held edit followed by a broken one: the held version is no longer the file's, so it cannot be forced live.
    writeFileSync(file, LOOSE);
    await waitUntil(async () => Boolean((await status()).pending), { timeoutMs: 10_000, message: 'held again' });
    writeFileSync(file, 'version: 1\ntags:\n  pii: { zones: [moon] }\n');
    await waitUntil(async () => /unknown zone 'moon'/.test((await status()).lastError ?? ''), { timeoutMs: 10_000, message: 'bad edit seen' });
    expect((await status()).pending).toBeNull();
    const stale = await post('/admin/policies/activate', { force: true });
    expect(stale.status).toBe(400);
    expect(await route('mail ida@example.org')).toBe('dev');
  }, 60_000);

  it('bad admin bodies get OpenAI-shaped 400/413s naming the field, and change nothing', async () => {
    const before = (await status()).version;
    const raw = (path: string, body: string) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const cases: Array<[Response, number, string | null]> = [
      [await raw('/admin/policies/replay', '{"policy": '), 400, null],
      [await post('/admin/policies/replay', { policy: 42 }), 400, 'policy'],
      [await post('/admin/policies/replay', { policy: STRICT, since_hours: -1 }), 400, 'since_hours'],
      [await post('/admin/policies/activate', { force: 'yes' }), 400, 'force'],
      [await raw('/admin/policies/replay', JSON.stringify({ policy: 'x'.repeat(5 * 1024 * 1024) })), 413, null],
    ];
    for (const [res, code, param] of cases) {
      expect(res.status).toBe(code);
      const err = ((await res.json()) as { error: { type: string; param: string | null } }).error;
      expect(err.type).toBeTruthy();
      if (param) expect(err.param).toBe(param);
    }
    expect((await status()).version).toBe(before);
  });
});
